"""Rectification orders: numbering, issuing, who may see them, the public view, re-inspection (复查).

Plain functions over the session; no ``request``. Callers commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import false, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp import audit, calendar
from webapp.auth.models import Organisation, Role
from webapp.auth.permissions import visible_org_ids
from webapp.db import utcnow
from webapp.documents import pdf as onsite
from webapp.extensions import db
from webapp.masking import mask_name, scrub
from webapp.publication.services import on_penalty_recorded
from webapp.rectification.models import (
    DEFAULT_PATTERNS,
    FollowUp,
    FollowUpKind,
    OrderCounter,
    OrderKind,
    OrderStatus,
    OrgNoticeSettings,
    RectificationOrder,
)
from webapp.registry.models import CreditLevel, Inspector, RiskLevel, Unit
from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DEADLINE_DAYS = 60


class OrderError(ValueError):
    """A rule was broken; ``field`` names the form field the Chinese message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def today_local() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


# ------------------------------------------------------------------------------------------ numbering


def numbering_for(org: Organisation) -> tuple[dict[str, str], str]:
    """({kind: pattern}, abbr) of an organisation; the abbreviation defaults to its short name."""
    s = db.session.execute(select(OrgNoticeSettings).where(OrgNoticeSettings.org_id == org.id)).scalar_one_or_none()
    if s is not None:
        return {"deadline": s.pattern_deadline, "immediate": s.pattern_immediate}, s.abbr
    return dict(DEFAULT_PATTERNS), org.short_name or org.name


def set_numbering(
    actor: Any, org: Organisation, abbr: str, pattern_deadline: str, pattern_immediate: str
) -> OrgNoticeSettings:
    """Set an organisation's 文书代字 and patterns (checked by webapp.documents.pdf)."""
    abbr, pattern_deadline, pattern_immediate = abbr.strip(), pattern_deadline.strip(), pattern_immediate.strip()
    for name, pattern in (("pattern_deadline", pattern_deadline), ("pattern_immediate", pattern_immediate)):
        try:
            onsite.format_order_number(pattern, abbr or "X", 2026, 1)
        except onsite.NoticeError as e:
            raise OrderError(e.message, name if abbr else "abbr") from None
    if pattern_deadline.replace("{abbr}", abbr) == pattern_immediate.replace("{abbr}", abbr):
        raise OrderError(_("两种文书的编号格式不能相同"), "pattern_immediate")
    s = db.session.execute(select(OrgNoticeSettings).where(OrgNoticeSettings.org_id == org.id)).scalar_one_or_none()
    new = {"abbr": abbr, "pattern_deadline": pattern_deadline, "pattern_immediate": pattern_immediate}
    old = {k: getattr(s, k) for k in new} if s else None
    if s is None:
        s = OrgNoticeSettings(org_id=org.id, **new)
        db.session.add(s)
    else:
        for k, v in new.items():
            setattr(s, k, v)
        s.updated_at = utcnow()
    audit.record(actor, "notice.numbering", s, {"old": old, "new": new}, org_id=org.id)
    return s


def example_numbers(org: Organisation) -> dict[str, str]:
    """What the next numbers would look like (not allocated)."""
    patterns, abbr = numbering_for(org)
    year = today_local().year
    out = {}
    for kind in OrderKind:
        try:
            out[kind.value] = onsite.format_order_number(patterns[kind.value], abbr, year, 1)
        except onsite.NoticeError as e:
            out[kind.value] = e.message
    return out


def allocate_seq(org_id: int, year: int, kind: str) -> int:
    """The next number for (org, year, kind), gap-free and unique under concurrency.

    One atomic upsert: ``INSERT … ON CONFLICT DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq``.
    On PostgreSQL the updated row stays locked until the caller's transaction ends, so a second issuer
    waits and then reads the committed value; a rollback returns the number. On SQLite the statement
    takes the database write lock, which serialises writers the same way.
    """
    dialect = db.session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    table = OrderCounter.__table__
    stmt = ins(table).values(org_id=org_id, year=year, kind=kind, last_seq=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.org_id, table.c.year, table.c.kind],
        set_={"last_seq": table.c.last_seq + 1},
    ).returning(table.c.last_seq)
    return int(db.session.execute(stmt).scalar_one())


# -------------------------------------------------------------------------------------------- issuing


def clean_problems(problems: list[dict]) -> list[dict]:
    cleaned = []
    for p in problems:
        text = (p.get("text") or "").strip()
        basis = (p.get("basis") or "").strip()
        if not text:
            continue
        if not basis:
            raise OrderError(_("每个问题都要写明法律依据"), "problems")
        cleaned.append({"text": text, "basis": basis})
    if not cleaned:
        raise OrderError(_("请至少列出一个问题"), "problems")
    return cleaned


def issue_order(
    actor: Any,
    inspection: Any,
    kind: OrderKind | str,
    problems: list[dict],
    deadline_days: int = 0,
    *,
    today: dt.date | None = None,
) -> RectificationOrder:
    """Issue a 责令立即改正 or 责令限期改正 order for an inspection's problems, with its number and deadline."""
    kind = OrderKind(kind)
    if getattr(getattr(inspection, "result", None), "value", None) == "no_problem":
        raise OrderError(_("检查结果为未发现问题，不能制发整改文书"), "kind")
    cleaned = clean_problems(problems)
    if kind == OrderKind.DEADLINE:
        if not 1 <= int(deadline_days) <= MAX_DEADLINE_DAYS:
            raise OrderError(_("整改期限应为 1 至 %(n)s 个工作日", n=MAX_DEADLINE_DAYS), "deadline_days")
    else:
        deadline_days = 0
    task = db.session.get(Task, inspection.task_id)
    if task is None:
        raise OrderError(_("检查记录没有对应的任务"))
    today = today or today_local()
    deadline = calendar.add_working_days(
        today, int(deadline_days), calendar.db_overrides(today, today + dt.timedelta(days=3 * MAX_DEADLINE_DAYS))
    )
    org = db.session.get(Organisation, task.org_id)
    patterns, abbr = numbering_for(org)
    seq = allocate_seq(org.id, today.year, kind.value)
    try:
        number = onsite.format_order_number(patterns[kind.value], abbr, today.year, seq)
    except onsite.NoticeError as e:
        raise OrderError(e.message) from None
    order = RectificationOrder(
        org_id=org.id,
        inspection_id=inspection.id,
        task_id=task.id,
        unit_id=task.unit_id,
        kind=kind,
        number=number,
        year=today.year,
        seq=seq,
        problems=cleaned,
        issued_at=utcnow(),
        issued_on=today,
        issued_by_id=getattr(actor, "id", None),
        deadline_days=int(deadline_days),
        deadline=deadline,
        status=OrderStatus.PENDING,
    )
    db.session.add(order)
    db.session.flush()
    audit.record(
        actor,
        "notice.issue",
        order,
        {
            "number": order.number,
            "kind": kind.value,
            "inspection_id": inspection.id,
            "task_id": task.id,
            "deadline": deadline.isoformat(),
            "problems": len(cleaned),
        },
        org_id=org.id,
    )
    return order


# ------------------------------------------------------------------------------------------- reading


def get_by_token(token: str) -> RectificationOrder | None:
    if not token or len(token) > 64:
        return None
    return db.session.execute(select(RectificationOrder).where(RectificationOrder.token == token)).scalar_one_or_none()


_NUMBER_VARIANTS = str.maketrans({"[": "〔", "]": "〕", "【": "〔", "】": "〕", "［": "〔", "］": "〕"})


def find_for_check(number: str, uscc: str) -> RectificationOrder | None:
    """The order whose number and unit USCC (both printed on the notice) match: the public notice check.

    Both are needed, so a number alone (they run in sequence) reveals nothing. Brackets typed as [ ] or 【 】
    match the official 〔 〕; spaces are ignored.
    """
    number = "".join((number or "").split()).translate(_NUMBER_VARIANTS)
    uscc = "".join((uscc or "").split()).upper()
    if not number or not uscc or len(number) > 100 or len(uscc) > 18:
        return None
    return db.session.execute(
        select(RectificationOrder)
        .join(Unit, Unit.id == RectificationOrder.unit_id)
        .where(RectificationOrder.number == number, Unit.uscc == uscc)
    ).scalar_one_or_none()


def list_orders(user: Any, state: str = "", today: dt.date | None = None, limit: int = 100) -> list[RectificationOrder]:
    """Orders of the organisations a supervisor manages, newest first; ``state`` pending / overdue / rectified."""
    today = today or today_local()
    q = select(RectificationOrder).order_by(RectificationOrder.issued_at.desc(), RectificationOrder.id.desc())
    ids = visible_org_ids(user)
    if ids is not None:
        q = q.where(RectificationOrder.org_id.in_(ids))
    pending = RectificationOrder.status == OrderStatus.PENDING
    if state == "pending":
        q = q.where(pending, RectificationOrder.deadline >= today)
    elif state == "overdue":
        q = q.where(
            (RectificationOrder.status == OrderStatus.NOT_RECTIFIED) | (pending & (RectificationOrder.deadline < today))
        )
    elif state == "rectified":
        q = q.where(RectificationOrder.status == OrderStatus.RECTIFIED)
    return list(db.session.execute(q.limit(limit)).scalars())


def _inspector_of(user: Any) -> Inspector | None:
    return db.session.execute(select(Inspector).where(Inspector.user_id == user.id)).scalar_one_or_none()


def _task_ids(order: RectificationOrder) -> list[int]:
    return [order.task_id] + ([order.reinspection_task_id] if order.reinspection_task_id else [])


def _assigned(user: Any, task_ids: list[int]) -> bool:
    """``user`` is an inspector actively assigned to one of the tasks."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.INSPECTOR:
        return False
    me = _inspector_of(user)
    if me is None:
        return False
    found = db.session.execute(
        select(TaskAssignment.id).where(
            TaskAssignment.task_id.in_(task_ids),
            TaskAssignment.inspector_id == me.id,
            TaskAssignment.active.is_(True),
        )
    ).first()
    return found is not None


def can_view_order(user: Any, order: RectificationOrder) -> bool:
    """Supervisors of the issuing organisation (or above it) and the inspectors assigned to its task or 复查."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.SUPERVISOR:
        ids = visible_org_ids(user)
        return ids is not None and order.org_id in ids
    return _assigned(user, _task_ids(order))


def can_issue(user: Any, inspection: Any) -> bool:
    """Only the inspectors assigned to the inspection's task issue its orders."""
    return _assigned(user, [inspection.task_id])


def can_record_outcome(user: Any, order: RectificationOrder) -> bool:
    """The inspectors of the 复查 task (or of the original task) record whether the problems were put right."""
    return _assigned(user, _task_ids(order))


def problems_from_findings(inspection: Any) -> list[dict]:
    return [{"text": f.text, "basis": f.legal_basis or ""} for f in getattr(inspection, "findings", [])]


def orders_of_inspection(inspection_id: int) -> list[RectificationOrder]:
    return list(
        db.session.execute(
            select(RectificationOrder)
            .where(RectificationOrder.inspection_id == inspection_id)
            .order_by(RectificationOrder.id)
        ).scalars()
    )


def inspectors_of(order: RectificationOrder) -> list[Inspector]:
    return [a.inspector for a in sorted(order.task.active_assignments, key=lambda a: a.slot)]


@dataclass
class PublicNotice:
    """What anyone scanning the QR code sees: no personal data unmasked."""

    number: str
    kind: str
    org_name: str
    unit_name: str
    issued_on: dt.date
    deadline: dt.date
    status: str
    problems: list[dict]
    inspectors: list[str]


def public_view(order: RectificationOrder, today: dt.date | None = None) -> PublicNotice:
    today = today or today_local()
    unit = order.unit
    people = [i.name for i in inspectors_of(order)] + [
        n for n in (unit.legal_rep, unit.safety_person, unit.contact_name) if n
    ]
    return PublicNotice(
        number=order.number,
        kind=order.kind.value,
        org_name=order.org.name,
        unit_name=scrub(unit.name, people),
        issued_on=order.issued_on,
        deadline=order.deadline,
        status=order.display_status(today),
        problems=[{"text": scrub(p["text"], people), "basis": scrub(p["basis"], people)} for p in order.problems],
        inspectors=[mask_name(i.name) for i in inspectors_of(order)],
    )


def notice_pdf(order: RectificationOrder, verify_url: str) -> bytes:
    """The 《责令限期改正通知书》 PDF (full names: it is handed to the unit), with the QR code to ``verify_url``."""
    if order.kind != OrderKind.DEADLINE:
        raise OrderError(_("责令立即改正不制作限期改正通知书"))
    people = [
        onsite.Inspector(name=i.name, organisation=i.org.name, certificate_no=i.cert_no or "")
        for i in inspectors_of(order)
    ]
    if len(people) < 2 or not all(p.certificate_no for p in people):
        people = []  # the PDF lists inspectors only when both, with certificates, are known
    data = onsite.RectificationNotice(
        number=order.number,
        unit_name=order.unit.name,
        problems=[onsite.Problem(description=p["text"], legal_basis=p["basis"]) for p in order.problems],
        deadline=order.deadline,
        issuing_org=order.org.name,
        issue_date=order.issued_on,
        verify_url=verify_url,
        unit_address=order.unit.address or "",
        inspectors=tuple(people),
    )
    try:
        return onsite.rectification_notice_pdf(data)
    except onsite.NoticeError as e:
        raise OrderError(e.message) from None


def qr_svg(url: str) -> str:
    return onsite.qr_svg(url)


# -------------------------------------------------------------------------------------- re-inspection


def create_due_reinspections(actor: Any = None, today: dt.date | None = None) -> list[Task]:
    """A 复查 task for every pending order whose deadline has passed, for the same inspectors.

    Idempotent, also when two runs overlap: an order that already has its 复查 task is skipped. Planned for
    the next working day.
    """
    today = today or today_local()
    if db.session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock before reading, so a concurrent run cannot read the same orders as due
        # (pysqlite only begins a transaction at the first write). PostgreSQL locks the rows: FOR UPDATE.
        db.session.execute(update(OrderCounter).where(false()).values(last_seq=OrderCounter.last_seq))
    due = (
        db.session.execute(
            select(RectificationOrder)
            .where(
                RectificationOrder.status == OrderStatus.PENDING,
                RectificationOrder.deadline < today,
                RectificationOrder.reinspection_task_id.is_(None),
            )
            .order_by(RectificationOrder.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    created = []
    planned = calendar.add_working_days(today, 1, calendar.db_overrides(today, today + dt.timedelta(days=30)))
    for order in due:
        src = order.task
        task = Task(
            org_id=src.org_id,
            unit_id=src.unit_id,
            item_version_id=src.item_version_id,
            kind=TaskKind.REINSPECTION,
            planned_date=planned,
            status=TaskStatus.PLANNED,
            parent_task_id=src.id,
            origin_note=_("复查：%(number)s", number=order.number),
            created_by_id=getattr(actor, "id", None),
        )
        db.session.add(task)
        db.session.flush()
        for a in src.active_assignments:
            db.session.add(
                TaskAssignment(task_id=task.id, slot=a.slot, dept=a.dept, role=a.role, inspector_id=a.inspector_id)
            )
        order.reinspection_task_id = task.id
        audit.record(
            actor,
            "notice.reinspection_task",
            order,
            {"number": order.number, "task": task.public_id, "planned_date": planned.isoformat()},
            org_id=order.org_id,
        )
        created.append(task)
    db.session.flush()
    return created


RISK_UP = {RiskLevel.GREEN: RiskLevel.BLUE, RiskLevel.BLUE: RiskLevel.YELLOW, RiskLevel.YELLOW: RiskLevel.RED}


def record_outcome(
    actor: Any,
    order: RectificationOrder,
    results: bool | list[bool],
    note: str = "",
    *,
    follow_up: FollowUpKind | str | None = None,
    decision_number: str = "",
    decision_date: dt.date | None = None,
    referred_to: str = "",
) -> RectificationOrder:
    """Record the 复查 result, per problem (``results[i]``: problem i put right) or for all at once.

    Every problem put right → rectified. Otherwise a follow-up is required and the unit's credit/risk worsen.
    """
    if order.status != OrderStatus.PENDING:
        raise OrderError(_("该文书的复查结果已记录"))
    if isinstance(results, bool):
        results = [results] * len(order.problems)
    results = [bool(r) for r in results]
    if len(results) != len(order.problems):
        raise OrderError(_("请逐项填写每个问题的整改情况"), "results")
    rectified = all(results)
    note = (note or "").strip()
    publication: dict = {}
    old = order.status.value
    if rectified:
        order.status = OrderStatus.RECTIFIED
    else:
        if follow_up is None:
            raise OrderError(_("未改正时必须选择后续处理"), "follow_up")
        fkind = FollowUpKind(follow_up)
        decision_number, referred_to = (decision_number or "").strip(), (referred_to or "").strip()
        if fkind == FollowUpKind.PENALTY and (not decision_number or decision_date is None):
            raise OrderError(_("行政处罚须填写决定书文号和决定日期"), "decision_number")
        if fkind == FollowUpKind.REFERRAL and not referred_to:
            raise OrderError(_("请填写移送的部门"), "referred_to")
        order.status = OrderStatus.NOT_RECTIFIED
        fu = FollowUp(
            order_id=order.id,
            kind=fkind,
            decision_number=decision_number or None,
            decision_date=decision_date,
            referred_to=referred_to or None,
            note=note or None,
            created_by_id=getattr(actor, "id", None),
        )
        db.session.add(fu)
        publication = on_penalty_recorded(actor, fu, order.org_id)  # 一公开: 7 working days after the decision
        _worsen_unit(actor, order.unit, order)
    order.status_at = utcnow()
    order.status_note = note or None
    order.outcome = results
    audit.record(
        actor,
        "notice.outcome",
        order,
        {
            "status": [old, order.status.value],
            "results": results,
            "follow_up": FollowUpKind(follow_up).value if follow_up and not rectified else None,
            "decision_number": decision_number or None,
            **publication,
        },
        org_id=order.org_id,
    )
    return order


def _worsen_unit(actor: Any, unit: Unit, order: RectificationOrder) -> None:
    """Not put right by the deadline: credit becomes 较差 and the risk level goes up one step (future draws)."""
    changes = audit.diff(
        unit,
        ["credit_level", "risk_level"],
        {"credit_level": CreditLevel.POOR, "risk_level": RISK_UP.get(unit.risk_level, unit.risk_level)},
    )
    if not changes:
        return
    unit.credit_level = CreditLevel.POOR
    unit.risk_level = RISK_UP.get(unit.risk_level, unit.risk_level)
    audit.record(actor, "unit.credit_risk", unit, changes, reason=order.number, org_id=unit.org_id)
