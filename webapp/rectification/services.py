"""Rectification orders: numbering, issuing, who may see them, the public view, re-inspection (复查).

Plain functions over the session; no ``request``. Callers commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import false, select, update

from webapp import audit, calendar, events
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.db import lock_row, utcnow
from webapp.extensions import db
from webapp.inspections.models import Answer, CheckResult, Inspection
from webapp.inspections.people import People
from webapp.inspections.record import calls_for_order
from webapp.masking import mask_name, scrub
from webapp.rectification.labels import ORDER_KIND
from webapp.rectification.models import (
    FollowUp,
    FollowUpKind,
    OrderCounter,
    OrderKind,
    OrderStatus,
    RectificationOrder,
)
from webapp.rectification.numbering import NumberingError, allocate_seq, format_order_number, numbering_for
from webapp.registry.models import CreditLevel, Inspector, RiskLevel, Unit
from webapp.tasks import services as task_services
from webapp.tasks.models import Task
from webapp.web import ConflictError, ServiceError

MAX_DEADLINE_DAYS = 60


class OrderError(ServiceError):
    """A rule of the orders was broken; ``field`` names the form field the Chinese message belongs to."""


class OrderConflict(ConflictError):
    """The issue form's key was used already, for other content: 409 (nothing is changed)."""


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


def is_client_key(raw: object) -> bool:
    """Whether ``raw`` is an issue form's key (a UUID)."""
    try:
        uuid.UUID(str(raw))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def parse_client_key(raw: object) -> str:
    """The issue form's key as a canonical UUID; OrderError otherwise (a page from before keys, or tampered)."""
    if raw is None or not is_client_key(raw):
        raise OrderError(_("页面已过期，请重新提交。"))
    return str(uuid.UUID(str(raw)))


def issue_order(
    actor: User,
    inspection: Inspection,
    kind: OrderKind | str,
    problems: list[dict],
    deadline_days: int = 0,
    *,
    today: dt.date | None = None,
    client_key: str | None = None,
) -> RectificationOrder:
    """Issue a 责令立即改正 or 责令限期改正 order for an inspection's problems, with its number and deadline.

    Idempotent by ``client_key`` (the issue form's UUID; a new one when not given): the same key and content
    again → the order issued with it; the same key with other content → :class:`OrderConflict` (409). A record
    gets one order of each kind: another key for the same record and kind → :class:`OrderError` on ``kind``
    naming the order. The record is locked first, so requests racing for it run one after the other and only
    one takes a number.
    """
    kind = OrderKind(kind)
    if inspection.result == CheckResult.NO_PROBLEM:
        raise OrderError(_("检查结果为未发现问题，不能制发整改文书"), "kind")
    if not calls_for_order(inspection):
        raise OrderError(_("检查记录提交且检查结果为责令改正后，才能制发整改文书"), "kind")
    key = parse_client_key(client_key) if client_key is not None else str(uuid.uuid4())
    cleaned = clean_problems(problems)
    if kind == OrderKind.DEADLINE:
        if not 1 <= int(deadline_days) <= MAX_DEADLINE_DAYS:
            raise OrderError(_("整改期限应为 1 至 %(n)s 个工作日", n=MAX_DEADLINE_DAYS), "deadline_days")
    else:
        deadline_days = 0
    lock_row(db.session, Inspection, inspection.id)  # one issuer per record at a time (finding 4)
    issued = _already_issued(inspection, kind, key, cleaned, int(deadline_days))
    if issued is not None:
        return issued
    task = db.session.get(Task, inspection.task_id)
    if task is None:
        raise OrderError(_("检查记录没有对应的任务"))
    today = today or calendar.today()
    deadline = calendar.add_working_days(
        today, int(deadline_days), calendar.db_overrides(today, today + dt.timedelta(days=3 * MAX_DEADLINE_DAYS))
    )
    org = db.session.get(Organisation, task.org_id)
    if org is None:
        raise OrderError(_("检查记录没有对应的任务"))
    patterns, abbr = numbering_for(org)
    seq = allocate_seq(org.id, today.year, kind.value)
    try:
        number = format_order_number(patterns[kind.value], abbr, today.year, seq)
    except NumberingError as e:
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
        client_key=key,
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
    create_due_reinspections(None, today, org_id=org.id)
    return order


def _already_issued(
    inspection: Inspection, kind: OrderKind, key: str, problems: list[dict], deadline_days: int
) -> RectificationOrder | None:
    """The order this request asks for if it exists (the same form posted again); OrderConflict when the key
    was used with other content, OrderError when the record has an order of this kind; None: issue it.

    Run after :func:`lock_row` on the record: what committed meanwhile is seen here.
    """
    same_key = db.session.execute(
        select(RectificationOrder).where(RectificationOrder.client_key == key)
    ).scalar_one_or_none()
    if same_key is not None:
        asked = (inspection.id, kind, problems, deadline_days)
        if (same_key.inspection_id, same_key.kind, same_key.problems, same_key.deadline_days) == asked:
            return same_key  # a double tap, two tabs or a retry after a timeout
        raise OrderConflict(
            _(
                "该文书已制发（%(number)s），本次提交的内容与已制发的不同，未作修改。请打开已制发的文书查看。",
                number=same_key.number,
            )
        )
    existing = db.session.execute(
        select(RectificationOrder)
        .where(RectificationOrder.inspection_id == inspection.id, RectificationOrder.kind == kind)
        .order_by(RectificationOrder.id)
        .limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        raise OrderError(
            _(
                "本次检查已制发%(kind)s（%(number)s），不能重复制发。",
                kind=ORDER_KIND[kind],
                number=existing.number,
            ),
            "kind",
        )
    return None


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


def list_orders(
    user: User, state: str = "", today: dt.date | None = None, limit: int = 100
) -> list[RectificationOrder]:
    """Orders of the organisations a supervisor manages, newest first; ``state`` pending / overdue / rectified."""
    today = today or calendar.today()
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


def problems_from_findings(inspection: Inspection) -> list[dict]:
    """The order's problems: every finding, then every 不符合 point no finding names (its text, note and basis)."""
    problems = [{"text": f.text, "basis": f.legal_basis or ""} for f in inspection.findings]
    named = {f.point_id for f in inspection.findings if f.point_id is not None}
    for a in inspection.answers:
        if a.answer == Answer.FAILS and a.point_id not in named:
            text = a.point.text + (f"：{a.note.strip()}" if a.note and a.note.strip() else "")
            problems.append({"text": text, "basis": a.point.basis or ""})
    return problems


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
    today = today or calendar.today()
    unit = order.unit
    # everyone the database knows around the order: the organisation's people, the unit's people and
    # signers (the signer is masked here as on /public/results), the task's inspectors
    people = People()
    names = people.around(order.org_id, order.unit_id, order.task_id)
    return PublicNotice(
        number=order.number,
        kind=order.kind.value,
        org_name=order.org.name,
        unit_name=scrub(unit.name, people.of_unit(unit.id)),  # "王小锋副食店" names its owner
        issued_on=order.issued_on,
        deadline=order.deadline,
        status=order.display_status(today),
        problems=[{"text": scrub(p["text"], names), "basis": scrub(p["basis"], names)} for p in order.problems],
        inspectors=[mask_name(i.name) for i in inspectors_of(order)],
    )


# -------------------------------------------------------------------------------------- re-inspection


def create_due_reinspections(
    actor: User | None = None, today: dt.date | None = None, *, org_id: int | None = None
) -> list[Task]:
    """A 复查 task for every pending order whose deadline has passed (of ``org_id``, or of every organisation).

    The task itself is made by :func:`webapp.tasks.services.create_reinspection` (same unit, item and
    inspectors), planned for the next working day. Idempotent, also when two runs overlap: an order that
    already has its 复查 task is skipped. Called by the daily ``flask rectification reinspections`` and on the
    submit paths (a record submitted, an order issued, a 复查 outcome recorded), never by a page load.
    """
    today = today or calendar.today()
    if db.session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock before reading, so a concurrent run cannot read the same orders as due
        # (pysqlite only begins a transaction at the first write). PostgreSQL locks the rows: FOR UPDATE.
        db.session.execute(update(OrderCounter).where(false()).values(last_seq=OrderCounter.last_seq))
    query = select(RectificationOrder).where(
        RectificationOrder.status == OrderStatus.PENDING,
        RectificationOrder.deadline < today,
        RectificationOrder.reinspection_task_id.is_(None),
    )
    if org_id is not None:
        query = query.where(RectificationOrder.org_id == org_id)
    due = db.session.execute(query.order_by(RectificationOrder.id).with_for_update()).scalars().all()
    created = []
    if due:
        planned = calendar.add_working_days(today, 1, calendar.db_overrides(today, today + dt.timedelta(days=30)))
    for order in due:
        task = task_services.create_reinspection(actor, order.task, planned, _("复查：%(number)s", number=order.number))
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


def on_result_submitted(inspection: Inspection, **_kw: Any) -> None:
    """Receiver of ``events.result_submitted``: the organisation's 复查 tasks that came due are created."""
    create_due_reinspections(None, calendar.today(), org_id=inspection.org_id)


RISK_UP = {RiskLevel.GREEN: RiskLevel.BLUE, RiskLevel.BLUE: RiskLevel.YELLOW, RiskLevel.YELLOW: RiskLevel.RED}


def record_outcome(
    actor: User,
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
    publication: dict[str, Any] = {}
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
        # 一公开: a penalty is due 7 working days after its decision (webapp.publication)
        for _receiver, decided in events.penalty_recorded.send(fu, actor=actor, org_id=order.org_id):
            publication.update(decided or {})
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
    create_due_reinspections(None, calendar.today(), org_id=order.org_id)
    return order


def _worsen_unit(actor: User, unit: Unit, order: RectificationOrder) -> None:
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
