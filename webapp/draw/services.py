"""The draw ceremony: plans, commit, witnesses, draw, replacement (递补抽取), abandon, publish, bundle.

Every step is an audit event. Nothing computes a result before the commitment exists, and a committed
draw is never deleted: it is drawn and published, or abandoned with a reason (and then published too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from webapp import audit, calendar
from webapp.auth.models import Organisation, OrgKind, User
from webapp.catalog.models import Item
from webapp.db import utcnow
from webapp.draw import engine
from webapp.draw.models import (
    PUBLIC_STATUSES,
    Draw,
    DrawStatus,
    DrawWitness,
    Plan,
    PlanKind,
    PlanStatus,
    Replacement,
)
from webapp.draw.plans import (
    DEFAULT_SLOTS,
    DEFAULT_TARGETS,
    DEFAULT_WEIGHTS,
    JOINT_SLOTS,
    JOINT_TARGETS,
    Eligibility,
    eligibility,
    parse_period,
)
from webapp.extensions import db
from webapp.registry.models import Inspector, Unit
from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus
from webapp.web import ServiceError

SPEC = engine.SPEC


def _rowcount(stmt: Any) -> int:
    """Rows matched by an UPDATE (the session returns a CursorResult for DML)."""
    return cast("CursorResult[Any]", db.session.execute(stmt)).rowcount


class DrawError(ServiceError):
    """A refusal with a message for the user (Chinese, form-level); ``draw`` is the draw it concerns, if any."""

    def __init__(self, message: str, draw: Draw | None = None):
        super().__init__(message)
        self.draw = draw


# ---------------------------------------------------------------------------------------------- plans


def default_unit_orgs(org: Organisation) -> list[int]:
    """A 大队 draws its own units; a 支队/总队 draws for the 大队 below it (cross-region)."""
    if org.kind == OrgKind.DADUI:
        return [org.id]
    ids, frontier = [], [org.id]
    while frontier:
        children = db.session.execute(
            select(Organisation.id, Organisation.kind).where(
                Organisation.parent_id.in_(frontier), Organisation.active.is_(True)
            )
        ).all()
        ids += [i for i, kind in children if kind == OrgKind.DADUI]
        frontier = [i for i, _kind in children]
    return ids or [org.id]


def default_inspector_orgs(org: Organisation, depts: list[str], unit_org_ids: list[int]) -> list[int]:
    """The drawing organisations' own inspectors, plus the other departments an item needs (joint checks)."""
    ids = set(unit_org_ids) | {org.id}
    others = [d for d in depts if d != org.dept]
    if others:
        ids |= set(
            db.session.execute(
                select(Organisation.id).where(Organisation.dept.in_(others), Organisation.active.is_(True))
            ).scalars()
        )
    return sorted(ids)


def create_plan(
    actor: User | None,
    *,
    org: Organisation,
    item: Item,
    year: int,
    kind: PlanKind = PlanKind.ROUTINE,
    name: str | None = None,
    targets: dict | None = None,
    monthly_quotas: dict | None = None,
    weights: dict | None = None,
    slots: list | None = None,
    unit_org_ids: list[int] | None = None,
    inspector_org_ids: list[int] | None = None,
    pool_filter: dict | None = None,
    start_month: int = 1,
    end_month: int = 12,
    note: str | None = None,
) -> Plan:
    version = item.current
    joint = version.is_joint
    units_from = unit_org_ids or default_unit_orgs(org)
    slots = slots or (JOINT_SLOTS if joint else DEFAULT_SLOTS)
    plan = Plan(
        org_id=org.id,
        item_id=item.id,
        item=item,
        year=year,
        kind=kind,
        name=name or f"{year}年{version.name}" + ("（专项检查）" if kind == PlanKind.SPECIAL else ""),
        targets=targets if targets is not None else (JOINT_TARGETS if joint else DEFAULT_TARGETS),
        monthly_quotas=monthly_quotas,
        weights=weights or DEFAULT_WEIGHTS,
        slots=slots,
        unit_org_ids=units_from,
        inspector_org_ids=inspector_org_ids
        or default_inspector_orgs(org, sorted({s["dept"] for s in slots}), units_from),
        pool_filter=pool_filter,
        start_month=start_month,
        end_month=end_month,
        note=note,
        status=PlanStatus.ACTIVE,
        created_by_id=getattr(actor, "id", None),
    )
    validate_plan(plan)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.created", plan, plan_summary(plan), org_id=org.id)
    return plan


def plan_summary(plan: Plan) -> dict:
    return {
        "year": plan.year,
        "kind": plan.kind.value,
        "name": plan.name,
        "item_id": plan.item_id,
        "targets": plan.targets,
        "monthly_quotas": plan.monthly_quotas,
        "weights": plan.weights,
        "slots": plan.slots,
        "unit_org_ids": plan.unit_org_ids,
        "inspector_org_ids": plan.inspector_org_ids,
        "pool_filter": plan.pool_filter,
        "months": [plan.start_month, plan.end_month],
    }


def validate_plan(plan: Plan) -> None:
    slots = plan.slots or []
    if len(slots) < 2:
        raise DrawError(_("每项任务至少需要2名执法检查人员"))
    if not any(s.get("role") == "lead" for s in slots):
        raise DrawError(_("每项任务需要1名主办人员"))
    if not 1 <= plan.start_month <= plan.end_month <= 12:
        raise DrawError(_("计划月份有误"))
    depts = set(plan.item.current.dept_list) if plan.item else {s["dept"] for s in slots}
    missing = depts - {s["dept"] for s in slots}
    if missing:
        raise DrawError(_("联合抽查事项需要各部门的检查人员：缺少%(d)s", d="、".join(sorted(missing))))
    for v in (plan.targets or {}).values():
        if not 0 <= int(v) <= 100:
            raise DrawError(_("抽查比例应在0到100之间"))


def update_plan(actor: User | None, plan: Plan, changes: dict, reason: str | None) -> Plan:
    before = plan_summary(plan)
    for k, v in changes.items():
        setattr(plan, k, v)
    validate_plan(plan)
    after = plan_summary(plan)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        audit.record(actor, "plan.updated", plan, diff, reason=reason, org_id=plan.org_id)
    return plan


# ------------------------------------------------------------------------------------------- ceremony


def live_draw(plan: Plan, period: str) -> Draw | None:
    return db.session.execute(
        select(Draw).where(Draw.plan_id == plan.id, Draw.period == period, Draw.status != DrawStatus.ABANDONED)
    ).scalar_one_or_none()


def check_period(plan: Plan, period: str, today: dt.date) -> None:
    year, month = parse_period(period)
    if year != plan.year or not plan.start_month <= month <= plan.end_month:
        raise DrawError(_("%(p)s 不在本计划的时间范围内", p=period))
    if (year, month) < (today.year, today.month):
        raise DrawError(_("不能为已过去的月份抽取"))


def explain_infeasible(problems: list[dict], elig: Eligibility) -> str:
    p = problems[0]
    reason = p.get("reason")
    if reason == "no_tasks":
        return _("本期没有需要抽取的检查对象（配额为0或没有符合条件的单位）")
    if reason == "no_working_days":
        return _("本月没有工作日，请检查工作日历")
    if reason == "no_slots":
        return _("计划没有设置检查人员岗位")
    dept = p.get("dept", "")
    role = _("主办") if p.get("role") == "lead" else _("协办")
    day = p.get("date") or ""
    return _(
        "检查人员不足：%(day)s 没有可抽取的%(dept)s%(role)s人员（考虑回避、请假和证件有效期）。请补充人员库后再抽取。",
        day=day,
        dept=dept,
        role=role,
    )


def commit(actor: User | None, plan: Plan, period: str, today: dt.date | None = None) -> Draw:
    """Freeze the pool and commit to a fresh secret. Two concurrent commits make one draw."""
    today = today or calendar.today()
    check_period(plan, period, today)
    existing = live_draw(plan, period)
    if existing is not None:
        raise DrawError(_("本期已有抽取记录，不能重复抽取"), existing)
    elig = eligibility(plan, period)
    pool = elig.pool()
    engine.validate_pool(pool)
    problems = engine.feasibility(pool)
    if problems:
        raise DrawError(explain_infeasible(problems, elig))
    secret = engine.new_secret()
    draw = Draw(
        plan_id=plan.id,
        org_id=plan.org_id,
        item_version_id=plan.item.current.id,
        period=period,
        status=DrawStatus.COMMITTED,
        pool=pool,
        pool_hash=engine.pool_hash(pool),
        commitment=engine.commitment(secret),
        server_secret=secret.hex(),
        excluded=elig.excluded,
        inspector_excluded=elig.inspector_excluded,
        committed_at=utcnow(),
        committed_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(draw)
            db.session.flush()
    except IntegrityError:
        existing = live_draw(plan, period)
        raise DrawError(_("本期已有抽取记录，不能重复抽取"), existing) from None
    audit.record(
        actor,
        "draw.committed",
        draw,
        {
            "period": period,
            "plan": plan.public_id,
            "pool_hash": draw.pool_hash,
            "commitment": draw.commitment,
            "units": len(pool["units"]),
            "inspectors": len(pool["inspectors"]),
            "quotas": pool["quotas"],
        },
        org_id=draw.org_id,
    )
    return draw


def add_witness(actor: User | None, draw: Draw, name: str, role: str, value: str) -> DrawWitness:
    if draw.status != DrawStatus.COMMITTED:
        raise DrawError(_("抽取已完成，不能再添加见证人"))
    name, role, value = (name or "").strip(), (role or "").strip(), engine.normalise_witness(value or "")
    if not name or not role:
        raise DrawError(_("请填写见证人姓名和身份"))
    if not value:
        raise DrawError(_("请见证人输入一个随机数值（如20位骰子点数）"))
    if len(value) > 200 or len(name) > 50 or len(role) > 50:
        raise DrawError(_("输入过长"))
    # Lock the draw row and re-check its status in one statement: a witness entered while another
    # supervisor presses "draw" is either in the seed or refused, never stored after the seed was computed.
    still_open = _rowcount(
        update(Draw)
        .where(Draw.id == draw.id, Draw.status == DrawStatus.COMMITTED)
        .values(status=DrawStatus.COMMITTED)
        .execution_options(synchronize_session=False)
    )
    if still_open != 1:
        raise DrawError(_("抽取已完成，不能再添加见证人"))
    seq = (
        db.session.execute(select(func.max(DrawWitness.seq)).where(DrawWitness.draw_id == draw.id)).scalar() or 0
    ) + 1
    w = DrawWitness(
        draw_id=draw.id, seq=seq, name=name, role=role, value=value, entered_by_id=getattr(actor, "id", None)
    )
    try:
        with db.session.begin_nested():
            db.session.add(w)
            db.session.flush()
    except IntegrityError:
        raise DrawError(_("另一位见证人同时提交，请重试")) from None
    audit.record(
        actor, "draw.witness_added", draw, {"seq": seq, "name": name, "role": role, "value": value}, org_id=draw.org_id
    )
    return w


def perform(actor: User | None, draw: Draw) -> Draw:
    """Compute the seed and the result and create the tasks. Exactly one caller wins the transition."""
    witnesses = [w.value for w in draw.witnesses]
    if draw.status != DrawStatus.COMMITTED:
        raise DrawError(_("本次抽取已经完成"), draw)
    if not witnesses:
        raise DrawError(_("至少需要1位见证人输入随机数值后才能抽取"))
    now = utcnow()
    won = _rowcount(
        update(Draw)
        .where(Draw.id == draw.id, Draw.status == DrawStatus.COMMITTED)
        .values(status=DrawStatus.DRAWN, drawn_at=now, drawn_by_id=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)
    )
    if won != 1:
        db.session.rollback()
        db.session.refresh(draw)
        raise DrawError(_("本次抽取已由他人完成"), draw)
    db.session.refresh(draw)
    witnesses = list(
        db.session.execute(
            select(DrawWitness.value).where(DrawWitness.draw_id == draw.id).order_by(DrawWitness.seq)
        ).scalars()
    )
    db.session.expire(draw, ["witnesses"])
    seed = engine.compute_seed(draw.pool_hash, draw.server_secret, witnesses)
    out = engine.draw(draw.pool, seed)
    if out["unfillable"]:  # feasibility() rules this out before commit; never assign fewer than required
        db.session.rollback()
        raise DrawError(_("人员不足，无法完成抽取"))
    draw.seed = seed
    draw.result = out["result"]
    _create_tasks(draw)
    audit.record(actor, "draw.drawn", draw, {"seed": seed, "tasks": len(out["result"])}, org_id=draw.org_id)
    return draw


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _create_tasks(draw: Draw) -> None:
    """Create the draw's tasks and assignments in bulk: a few statements, not one flush per task.

    Rows are exactly those of one ``Task`` per result entry (``seq`` = task order) and one
    ``TaskAssignment`` per slot; task ids are read back by ``(draw_id, seq)``.
    """
    result = draw.result or []
    if not result:
        return
    unit_ids = sorted({t["unit_id"] for t in result})
    insp_ids = sorted({a["inspector_id"] for t in result for a in t["assignments"]})
    units: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(unit_ids):  # chunked: SQLite caps the number of bound parameters
        q = select(Unit.public_id, Unit.id, Unit.org_id).where(Unit.public_id.in_(chunk))
        units.update((pid, (uid, org_id)) for pid, uid, org_id in db.session.execute(q))
    inspectors: dict[str, int] = {}
    for chunk in _chunks(insp_ids):
        rows = db.session.execute(select(Inspector.public_id, Inspector.id).where(Inspector.public_id.in_(chunk)))
        inspectors.update((pid, iid) for pid, iid in rows)
    kind = TaskKind.SPECIAL if draw.plan.kind == PlanKind.SPECIAL else TaskKind.ROUTINE
    slots = draw.pool["slots"]
    task_rows = []
    for i, entry in enumerate(result):
        unit_id, org_id = units[entry["unit_id"]]
        task_rows.append(
            {
                "org_id": org_id,
                "unit_id": unit_id,
                "item_version_id": draw.item_version_id,
                "draw_id": draw.id,
                "seq": i,
                "kind": kind,
                "planned_date": dt.date.fromisoformat(entry["planned_date"]),
            }
        )
    db.session.flush()
    for chunk in _chunks(task_rows):
        db.session.execute(insert(Task), chunk)
    task_ids = dict(db.session.execute(select(Task.seq, Task.id).where(Task.draw_id == draw.id)).all())
    assignment_rows = []
    for i, entry in enumerate(result):
        task_id = task_ids[i]
        for a in entry["assignments"]:
            slot = slots[a["slot"]]
            assignment_rows.append(
                {
                    "task_id": task_id,
                    "slot": a["slot"],
                    "dept": slot["dept"],
                    "role": slot["role"],
                    "inspector_id": inspectors[a["inspector_id"]],
                }
            )
    for chunk in _chunks(assignment_rows):
        db.session.execute(insert(TaskAssignment), chunk)


def publish(actor: User | None, draw: Draw) -> Draw:
    if draw.status != DrawStatus.DRAWN:
        raise DrawError(_("只有已抽取的计划才能公布"))
    draw.status = DrawStatus.PUBLISHED
    draw.published_at = utcnow()
    draw.published_by_id = getattr(actor, "id", None)
    audit.record(actor, "draw.published", draw, {"server_secret": draw.server_secret}, org_id=draw.org_id)
    return draw


def abandon(actor: User | None, draw: Draw, reason: str) -> Draw:
    reason = (reason or "").strip()
    if not reason:
        raise DrawError(_("放弃抽取必须填写原因"))
    if draw.status not in (DrawStatus.COMMITTED, DrawStatus.DRAWN):
        raise DrawError(_("已公布的抽取不能放弃"))
    started = [t for t in draw.tasks if t.status not in (TaskStatus.PLANNED, TaskStatus.CANCELLED)]
    if started:
        raise DrawError(_("已有任务开始检查，不能放弃本次抽取"))
    old = draw.status
    now = utcnow()
    draw.status = DrawStatus.ABANDONED
    draw.abandoned_at = now
    draw.abandoned_reason = reason
    draw.abandoned_by_id = getattr(actor, "id", None)
    draw.published_at = now  # an abandoned draw is published with its secret and result
    for t in draw.tasks:
        t.status = TaskStatus.CANCELLED
    audit.record(
        actor,
        "draw.abandoned",
        draw,
        {"status": [old.value, "abandoned"], "server_secret": draw.server_secret},
        reason=reason,
        org_id=draw.org_id,
    )
    return draw


def replace(actor: User | None, draw: Draw, task: Task, slot: int, reason: str) -> Replacement:
    """递补抽取 for ``slot`` of ``task``: same pool, everyone ever on the task excluded, availability as of now."""
    reason = (reason or "").strip()
    if not reason:
        raise DrawError(_("递补抽取必须填写原因"))
    if draw.status not in (DrawStatus.DRAWN, DrawStatus.PUBLISHED) or task.draw_id != draw.id:
        raise DrawError(_("该任务不能递补"))
    if draw.result is None or draw.seed is None or task.seq is None:  # a drawn task of a drawn draw has all three
        raise DrawError(_("该任务不能递补"))
    if task.status != TaskStatus.PLANNED:
        raise DrawError(_("任务已开始，不能递补"))
    current = next((a for a in task.assignments if a.active and a.slot == slot), None)
    if current is None:
        raise DrawError(_("没有该岗位"))
    entry = draw.result[task.seq]
    rnd = (
        db.session.execute(
            select(func.count(Replacement.id)).where(Replacement.task_id == task.id, Replacement.slot == slot)
        ).scalar()
        or 0
    ) + 1
    ever = {a.inspector.public_id for a in task.assignments}
    unavailable_now = current_unavailability(draw, task.planned_date)
    winner, candidates = engine.replace(draw.pool, draw.seed, entry, slot, rnd, ever, unavailable_now)
    if winner is None:
        raise DrawError(_("人员库中没有可递补的人员"))
    newcomer = db.session.execute(select(Inspector).where(Inspector.public_id == winner)).scalar_one()
    now = utcnow()
    current.active = False
    current.ended_at = now
    current.ended_reason = reason
    db.session.add(
        TaskAssignment(task_id=task.id, slot=slot, dept=current.dept, role=current.role, inspector_id=newcomer.id)
    )
    rep = Replacement(
        draw_id=draw.id,
        task_id=task.id,
        slot=slot,
        round=rnd,
        out_inspector_id=current.inspector_id,
        in_inspector_id=newcomer.id,
        reason=reason,
        candidates=candidates,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(rep)
    db.session.flush()
    audit.record(
        actor,
        "draw.replaced",
        draw,
        {
            "task": task.public_id,
            "slot": slot,
            "round": rnd,
            "out": current.inspector.public_id,
            "in": winner,
            "candidates": candidates,
        },
        reason=reason,
        org_id=draw.org_id,
    )
    return rep


def current_unavailability(draw: Draw, day: dt.date) -> dict[str, list[str]]:
    """Availability of the frozen pool's inspectors as recorded now (leave, freezes, expired certificates)."""
    from webapp.draw.pool import inspector_pool

    plan = draw.plan
    in_pool, out = inspector_pool(
        set(plan.inspector_org_ids), sorted({s["dept"] for s in draw.pool["slots"]}), day, day
    )
    now = {i["id"]: list(i["unavailable"]) for i in in_pool}
    for i in out:
        now[i["inspector_id"]] = [day.isoformat()]
    return {i["id"]: now.get(i["id"], [day.isoformat()]) for i in draw.pool["inspectors"]}


# --------------------------------------------------------------------------------------------- bundle


def bundle(draw: Draw) -> dict:
    """The verification bundle (DRAW_SPEC section 5). The secret is null until the draw is public."""
    revealed = draw.status in PUBLIC_STATUSES

    def ts(v: dt.datetime | None) -> str | None:
        return v.isoformat(timespec="seconds") if v else None

    return {
        "spec": SPEC,
        "draw": {
            "id": draw.public_id,
            "org": draw.org.code,
            "item": draw.plan.item.code,
            "period": draw.period,
            "status": draw.status.value,
            "committed_at": ts(draw.committed_at),
            "drawn_at": ts(draw.drawn_at),
            "published_at": ts(draw.published_at),
            "abandoned_reason": draw.abandoned_reason,
        },
        "pool": draw.pool,
        "pool_hash": draw.pool_hash,
        "commitment": draw.commitment,
        "witness": [w.value for w in draw.witnesses],
        "server_secret": draw.server_secret if revealed else None,
        "seed": draw.seed,
        "result": draw.result or [],
        "replacements": [
            {
                "unit_id": r.task.unit.public_id,
                "slot": r.slot,
                "round": r.round,
                "out": r.out_inspector.public_id,
                "in": r.in_inspector.public_id,
                "reason": r.reason,
                "candidates": r.candidates,
            }
            for r in draw.replacements
        ],
        "excluded": draw.excluded,
    }


# ----------------------------------------------------------------------------------------- reminders


@dataclass
class DrawDue:
    period: str  # the month to be drawn
    window: list[dt.date]  # the last two working days of the current month
    plans_done: int
    plans_total: int
    today: dt.date = field(default_factory=dt.date.today)

    @property
    def state(self) -> str:
        today = self.today
        if self.plans_total and self.plans_done >= self.plans_total:
            return "done"
        if today > self.window[-1]:
            return "late"
        if today >= self.window[0]:
            return "due"
        return "upcoming"


def next_draw_due(org_id: int, today: dt.date | None = None) -> DrawDue:
    today = today or calendar.today()
    nxt = dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    period = f"{nxt.year:04d}-{nxt.month:02d}"
    first, last = calendar.month_bounds(today.year, today.month)
    window = calendar.last_working_days(today.year, today.month, 2, calendar.db_overrides(first, last))
    plans = (
        db.session.execute(
            select(Plan.id).where(
                Plan.org_id == org_id,
                Plan.kind == PlanKind.ROUTINE,
                Plan.status == PlanStatus.ACTIVE,
                Plan.year == nxt.year,
                Plan.start_month <= nxt.month,
                Plan.end_month >= nxt.month,
            )
        )
        .scalars()
        .all()
    )
    done = (
        db.session.execute(
            select(func.count(func.distinct(Draw.plan_id))).where(
                Draw.plan_id.in_(plans), Draw.period == period, Draw.status != DrawStatus.ABANDONED
            )
        ).scalar()
        if plans
        else 0
    )
    return DrawDue(period=period, window=window, plans_done=done or 0, plans_total=len(plans), today=today)
