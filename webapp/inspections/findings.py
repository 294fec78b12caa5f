"""The finding rules beyond add/delete (which are ``services.add_finding`` / ``delete_finding``).

- A 不符合 point opens a finding prefilled from the point (its text, the note typed on it, its legal basis),
  linked by ``point_id`` (:func:`prefill_from_point`, :func:`unrecorded_fails`).
- A common problem of the item's library (常见问题库) fills a finding; the link is kept
  (``CommonProblemUse``) so the order form takes the problem's suggested kind and deadline (:func:`add`,
  :func:`order_suggestion`).
- A finding stays editable until the record is submitted; the edit is audited and keeps the finding's client
  id, so photos queued for it on the phone still find it (:func:`edit`).

Plain functions over the session; no ``request``. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit
from webapp.auth.models import User
from webapp.catalog.models import ChecklistPoint, CommonProblem, CommonProblemUse, SuggestedOrder
from webapp.catalog.services import problems_for_version
from webapp.extensions import db
from webapp.inspections import services
from webapp.inspections.models import Answer, Finding, Inspection
from webapp.inspections.record import InspectionError, TaskContext, require_draft, started


@dataclass(frozen=True)
class Prefill:
    """What a finding form shows before the inspector changes anything."""

    text: str
    legal_basis: str


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# -------------------------------------------------------------------------------------------- from a point


def prefill_from_point(point: ChecklistPoint, note: str | None = None) -> Prefill:
    """The finding a 不符合 point suggests: the point, what was noted on it, and the point's legal basis."""
    text = _("%(point)s不符合要求", point=point.text)
    if note and note.strip():
        text = f"{text}：{note.strip()}"
    return Prefill(text=text[: services.MAX_FINDING], legal_basis=point.basis or "")


def unrecorded_fails(insp: Inspection | None, points: list[ChecklistPoint]) -> list[tuple[ChecklistPoint, Prefill]]:
    """Points answered 不符合 that no finding names yet, in checklist order, each with its prefilled finding."""
    if insp is None:
        return []
    named = {f.point_id for f in insp.findings if f.point_id is not None}
    fails = {a.point_id: a for a in insp.answers if a.answer == Answer.FAILS}
    return [(p, prefill_from_point(p, fails[p.id].note)) for p in points if p.id in fails and p.id not in named]


# ------------------------------------------------------------------------------------ from a common problem


def problems(ctx: TaskContext) -> list[CommonProblem]:
    """The common problems offered for this task's item."""
    return problems_for_version(ctx.task.item_version_id)


def _problem_of(ctx: TaskContext, raw: Any) -> CommonProblem | None:
    if raw in (None, ""):
        return None
    problem = db.session.get(CommonProblem, int(raw)) if str(raw).isdigit() else None
    if problem is None or not problem.active or problem.item_id != ctx.task.item_version.item_id:
        raise InspectionError({"common_problem": _("所选的常见问题不存在或已停用，请重新选择。")})
    return problem


def add(
    user: User,
    ctx: TaskContext,
    text: Any,
    legal_basis: Any,
    point_id: Any = None,
    common_problem: Any = None,
    client_uuid: Any = None,
) -> Finding:
    """Record a finding (``services.add_finding``), filled from a common problem when one was picked: its text
    and basis where the form left them empty, and the link that carries its suggested order."""
    problem = _problem_of(ctx, common_problem)
    if problem is not None:
        text = _clean(text) or problem.text
        legal_basis = _clean(legal_basis) or problem.legal_basis
    finding = services.add_finding(user, ctx, text, legal_basis, point_id, client_uuid=client_uuid)
    if problem is not None:
        linked = db.session.execute(
            select(CommonProblemUse).where(CommonProblemUse.finding_id == finding.id)
        ).scalar_one_or_none()
        if linked is None:  # not on a retry of the same finding
            db.session.add(CommonProblemUse(finding_id=finding.id, common_problem_id=problem.id))
            db.session.flush()
            audit.record(
                user,
                "inspection.finding_from_problem",
                finding.inspection,
                {"finding": finding.id, "problem": problem.id, "client_uuid": finding.client_uuid},
            )
    return finding


# ------------------------------------------------------------------------------------------------- editing


def edit(user: User, ctx: TaskContext, finding: Finding, text: Any, legal_basis: Any) -> bool:
    """Change a finding's text or basis until the record is submitted. Keeps its ids (public and client) and
    photos; audited ``inspection.finding_edit`` with old and new. Returns whether anything changed. Signatures
    given before bind the old content, so they are asked for again (``signing``)."""
    insp = started(ctx)
    require_draft(insp)
    text_s, basis_s = _clean(text), _clean(legal_basis)
    errors = {}
    if not text_s:
        errors["text"] = _("请描述发现的问题。")
    elif len(text_s) > services.MAX_FINDING:
        errors["text"] = _("问题描述不能超过%(n)s个字。", n=services.MAX_FINDING)
    if len(basis_s) > services.MAX_BASIS:
        errors["legal_basis"] = _("法律依据不能超过%(n)s个字。", n=services.MAX_BASIS)
    if errors:
        raise InspectionError(errors)
    old = {"text": finding.text, "legal_basis": finding.legal_basis or ""}
    new = {"text": text_s, "legal_basis": basis_s}
    changes = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    if not changes:
        return False
    finding.text, finding.legal_basis = text_s, basis_s or None
    db.session.flush()
    audit.record(
        user,
        "inspection.finding_edit",
        insp,
        {"finding": finding.id, "client_uuid": finding.client_uuid, **changes},
    )
    return True


# ------------------------------------------------------------------------------------------ the order form


@dataclass(frozen=True)
class OrderSuggestion:
    """What the findings suggest for the order: the kind, the deadline in working days (the shortest any common
    problem suggests), and which problems said so."""

    kind: str | None
    deadline_days: int | None
    sources: list[str]


def order_suggestion(inspection: Inspection) -> OrderSuggestion:
    """From the common problems the record's findings were filled from. 责令立即改正 when any of them calls for
    it; otherwise the shortest suggested deadline. Findings copied into a supplementary record lose the link,
    so an unchanged text of the item's library counts too."""
    ids = [f.id for f in inspection.findings]
    linked = {
        u.finding_id: u.problem
        for u in db.session.execute(select(CommonProblemUse).where(CommonProblemUse.finding_id.in_(ids))).scalars()
    }
    library = {p.text: p for p in problems_for_version(inspection.task.item_version_id)}
    found = [linked.get(f.id) or library.get(f.text) for f in inspection.findings]
    used = [p for p in found if p is not None]
    if not used:
        return OrderSuggestion(None, None, [])
    kinds = {p.order_kind for p in used}
    days = [p.deadline_days for p in used if p.order_kind == SuggestedOrder.DEADLINE and p.deadline_days]
    kind = SuggestedOrder.IMMEDIATE if kinds == {SuggestedOrder.IMMEDIATE} else SuggestedOrder.DEADLINE
    return OrderSuggestion(kind.value, min(days) if days else None, [p.text for p in used])
