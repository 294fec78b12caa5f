"""The draw ceremony: plans, commit, witnesses, draw, replacement (递补抽取), abandon, publish, close, bundle.

Every step is an audit event and, for ``suijian-draw/2`` draws, an event of the draw's hash-chained
ceremony log (``DrawEvent``, DRAW_SPEC section 1). Nothing computes a result before the commitment
exists, and a committed draw is never deleted: it is drawn, published and closed, or abandoned with a
reason (and then published and closed at once).

Secrets keep their time: the seed and the server secret leave this module (bundle, audit data, return
values shown to people) only once the draw is published, the replacement secret and ``rseed`` only once
it is closed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, union, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from webapp import audit, calendar
from webapp.auth.models import Organisation, OrgKind, User
from webapp.catalog.models import Item
from webapp.db import utcnow
from webapp.draw import engine
from webapp.draw.models import (
    PUBLIC_STATUSES,
    SPEC_V1,
    Draw,
    DrawEvent,
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
from webapp.masking import Names, scrub
from webapp.registry.models import Inspector, Unit
from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus
from webapp.web import ServiceError

SPEC = engine.SPEC  # every new commitment uses the engine's current spec (suijian-draw/2)
# Why an inspector of the frozen pool is excluded from a 递补 now (DRAW_SPEC section 3, excluded_now).
EXCLUDED_NOW_REASONS = ("leave", "frozen", "certificate", "conflict", "inactive", "other")
_POOL_REASON_NOW = {  # draw.pool's inspector exclusion codes → excluded_now reasons
    "cert_missing": "certificate",
    "cert_expired": "certificate",
    "cert_expires_in_period": "certificate",
    "frozen": "frozen",
    "unavailable_all_period": "leave",
    "org_inactive": "inactive",
}


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


def due_window(period: str) -> list[dt.date]:
    """The due window of ``period``'s draw: the last two working days of the month before it."""
    year, month = parse_period(period)
    before = dt.date(year, month, 1) - dt.timedelta(days=1)
    first, last = calendar.month_bounds(before.year, before.month)
    return calendar.last_working_days(before.year, before.month, 2, calendar.db_overrides(first, last))


def is_early(period: str, today: dt.date) -> bool:
    """Committing ``period`` on ``today`` comes before its due window (a written reason is needed)."""
    window = due_window(period)
    return bool(window) and today < window[0]


def _with_exclusions(pool: dict, excluded: list[dict]) -> dict:
    """A /2 pool carries its unit exclusions (DRAW_SPEC section 5), sorted by unit id."""
    if "excluded" in pool:
        return pool
    rows = sorted(({"unit_id": e["unit_id"], "reason": e["reason"]} for e in excluded), key=lambda e: e["unit_id"])
    return {**pool, "excluded": rows}


def commit(
    actor: User | None,
    plan: Plan,
    period: str,
    today: dt.date | None = None,
    early_reason: str | None = None,
) -> Draw:
    """Freeze the pool and commit to two fresh secrets. Two concurrent commits make one draw.

    Before the due window (``is_early``) a written ``early_reason`` is required; it is audited and shown on
    the public register.
    """
    today = today or calendar.today()
    check_period(plan, period, today)
    gate = calendar.period_gate(*calendar.month_bounds(*parse_period(period)))
    if gate:  # every working day of the period must come from a known calendar year (DRAW_SPEC section 4)
        raise DrawError(gate)
    early_reason = (early_reason or "").strip() or None
    if is_early(period, today):
        if not early_reason:
            raise DrawError(_("提前抽取（早于抽取期限：上月最后两个工作日）必须写明原因，原因将在抽取公示名册中公开"))
    else:
        early_reason = None
    existing = live_draw(plan, period)
    if existing is not None:
        raise DrawError(_("本期已有抽取记录，不能重复抽取"), existing)
    elig = eligibility(plan, period)
    pool = _with_exclusions(elig.pool(), elig.excluded)
    engine.validate_pool(pool, engine.SPEC)  # the canonical /2 form the verifier requires
    problems = engine.feasibility(pool)
    if problems:
        raise DrawError(explain_infeasible(problems, elig))
    secret, rsecret = engine.new_secret(), engine.new_secret()
    draw = Draw(
        plan_id=plan.id,
        org_id=plan.org_id,
        item_version_id=plan.item.current.id,
        period=period,
        spec=SPEC,
        status=DrawStatus.COMMITTED,
        pool=pool,
        pool_hash=engine.pool_hash(pool),
        commitment=engine.commitment(secret),
        server_secret=secret.hex(),
        replacement_commitment=engine.commitment(rsecret),
        replacement_secret=rsecret.hex(),
        early_reason=early_reason,
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
    draw.committed_at = _log(
        draw,
        "commit",
        {
            "org": draw.org.code,
            "item": plan.item.code,
            "period": period,
            "pool_hash": draw.pool_hash,
            "commitment": draw.commitment,
            "replacement_commitment": draw.replacement_commitment,
        },
    )
    audit.record(
        actor,
        "draw.committed",
        draw,
        {
            "period": period,
            "plan": plan.public_id,
            "spec": draw.spec,
            "pool_hash": draw.pool_hash,
            "commitment": draw.commitment,
            "replacement_commitment": draw.replacement_commitment,
            "units": len(pool["units"]),
            "inspectors": len(pool["inspectors"]),
            "quotas": pool["quotas"],
            "early": early_reason is not None,
        },
        reason=early_reason,
        org_id=draw.org_id,
    )
    return draw


# ------------------------------------------------------------------------------------- ceremony log


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(at: str) -> dt.datetime:
    return dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def last_event(draw: Draw) -> DrawEvent | None:
    return db.session.execute(
        select(DrawEvent).where(DrawEvent.draw_id == draw.id).order_by(DrawEvent.n.desc()).limit(1)
    ).scalar_one_or_none()


def current_head(draw: Draw) -> str | None:
    """The head of the draw's log after its last event (``None`` for /1 draws, which keep no log)."""
    if not draw.has_log:
        return None
    last = last_event(draw)
    return last.head if last is not None else engine.head0(draw.public_id)


def _log(draw: Draw, type_: str, data: dict, now: dt.datetime | None = None) -> dt.datetime:
    """Append one event to a /2 draw's ceremony log; returns its time (whole seconds, never before the last).

    Two steps racing for the same ``n`` meet the unique constraint: one of them is refused.
    """
    if not draw.has_log:
        return now or utcnow()
    last = last_event(draw)
    prev = last.head if last is not None else engine.head0(draw.public_id)
    at = _stamp(now or utcnow())
    if last is not None and at < last.at:  # `at` never decreases along the log
        at = last.at
    n = last.n + 1 if last is not None else 1
    event = engine.make_event(n, type_, at, data)
    row = DrawEvent(draw_id=draw.id, n=n, type=type_, at=at, data=event["data"], head=engine.next_head(prev, event))
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise DrawError(_("另一操作同时进行，请刷新后重试"), draw) from None
    db.session.expire(draw, ["events"])
    return _parse_stamp(at)


def _names_around(draw: Draw) -> Names:
    """People a reason typed for this draw may name, masked in the logged text (hashed, and public later).

    The names the public pages mask for a draw (``webapp.inspections.people.People.of_draw``, which this
    package cannot import: inspections depends on draw): the organisation's units' people, inspectors, users
    and draw witnesses, the inspectors ever on the draw's tasks and its units' people, plus the frozen pool's
    inspectors (also of other organisations).
    """
    unit_people = (Unit.legal_rep, Unit.safety_person, Unit.contact_name)
    tasks = select(Task.id).where(Task.draw_id == draw.id)
    units = select(Task.unit_id).where(Task.draw_id == draw.id)
    queries = [
        *(select(col).where(Unit.org_id == draw.org_id) for col in unit_people),
        *(select(col).where(Unit.id.in_(units)) for col in unit_people),
        select(Inspector.name).where(Inspector.org_id == draw.org_id),
        select(User.display_name).where(User.org_id == draw.org_id),
        select(DrawWitness.name).join(Draw, Draw.id == DrawWitness.draw_id).where(Draw.org_id == draw.org_id),
        select(Inspector.name)
        .join(TaskAssignment, TaskAssignment.inspector_id == Inspector.id)
        .where(TaskAssignment.task_id.in_(tasks)),
    ]
    names = [n for n in db.session.execute(union(*queries)).scalars() if n]
    ids = [i["id"] for i in draw.pool.get("inspectors", [])]
    for chunk in _chunks(ids):
        names += db.session.execute(select(Inspector.name).where(Inspector.public_id.in_(chunk))).scalars()
    return Names(names)


def _public_text(draw: Draw, text: str) -> str:
    """A reason as it enters the hashed log: personal names masked (the log is published as written)."""
    return scrub(text, _names_around(draw)) if draw.has_log else text


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
    _log(draw, "witness", {"value": value})
    audit.record(
        actor, "draw.witness_added", draw, {"seq": seq, "name": name, "role": role, "value": value}, org_id=draw.org_id
    )
    return w


def result_hash(result: list) -> str:
    """``H(canonical(result))``: the draw event's fingerprint of the result (DRAW_SPEC section 1)."""
    return hashlib.sha256(engine.canonical(result)).hexdigest()


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
    # only what the UPDATE changed: the frozen pool, the commitments and the secrets never change after the
    # commitment, and reloading the pool (a million units at most) would cost a second JSON decoding
    db.session.refresh(draw, ["status", "drawn_at", "drawn_by_id"])
    witnesses = list(
        db.session.execute(
            select(DrawWitness.value).where(DrawWitness.draw_id == draw.id).order_by(DrawWitness.seq)
        ).scalars()
    )
    db.session.expire(draw, ["witnesses"])
    # each draw under the rules it was committed under (/1 draws committed before version 2 keep theirs)
    seed = engine.compute_seed(draw.pool_hash, draw.server_secret, witnesses, spec=draw.spec)
    out = engine.draw(draw.pool, seed, spec=draw.spec)
    result = out["result"] if "result" in out else out["tasks"]
    # /1 never assigns fewer than required; a /2 slot left empty by chance is filled by a 递补 ("out": null)
    if not draw.has_log and out.get("unfillable"):
        db.session.rollback()
        raise DrawError(_("人员不足，无法完成抽取"))
    draw.seed = seed
    draw.result = result
    _create_tasks(draw)
    digest = result_hash(result)
    draw.drawn_at = _log(draw, "draw", {"result_hash": digest}, now)
    # the seed is secret until publication: the audit log (read by admins) holds the result's hash only
    audit.record(actor, "draw.drawn", draw, {"result_hash": digest, "tasks": len(result)}, org_id=draw.org_id)
    return draw


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _create_tasks(draw: Draw) -> None:
    """Create the draw's tasks and assignments in bulk: a few Core statements, not one flush per task.

    Rows are exactly those of one ``Task`` per result entry (``seq`` = task order) and one
    ``TaskAssignment`` per slot; task ids are read back by ``(draw_id, seq)``.
    """
    result = draw.result or []
    if not result:
        return
    unit_ids = sorted({t["unit_id"] for t in result})
    insp_ids = sorted({a["inspector_id"] for t in result for a in t["assignments"] if a["inspector_id"]})
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
    conn = db.session.connection()  # Core executemany: no ORM bookkeeping per row
    for chunk in _chunks(task_rows):
        conn.execute(insert(Task.__table__), chunk)  # type: ignore[arg-type]
    task_ids = dict(db.session.execute(select(Task.seq, Task.id).where(Task.draw_id == draw.id)).all())
    assignment_rows = []
    for i, entry in enumerate(result):
        task_id = task_ids[i]
        for a in entry["assignments"]:
            if not a["inspector_id"]:  # /2: no candidate on the day; a 递补 fills it
                continue
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
        conn.execute(insert(TaskAssignment.__table__), chunk)  # type: ignore[arg-type]


def publish(actor: User | None, draw: Draw) -> Draw:
    if draw.status != DrawStatus.DRAWN:
        raise DrawError(_("只有已抽取的计划才能公布"))
    draw.status = DrawStatus.PUBLISHED
    draw.published_at = _log(draw, "publish", {"server_secret": draw.server_secret})
    draw.published_by_id = getattr(actor, "id", None)
    audit.record(actor, "draw.published", draw, {"server_secret": draw.server_secret}, org_id=draw.org_id)
    return draw


def abandon(actor: User | None, draw: Draw, reason: str) -> Draw:
    """Abandon before publication, with a reason: published and (/2) closed at once, everything kept."""
    reason = (reason or "").strip()
    if not reason:
        raise DrawError(_("放弃抽取必须填写原因"))
    if draw.status not in (DrawStatus.COMMITTED, DrawStatus.DRAWN):
        raise DrawError(_("已公布的抽取不能放弃"))
    started = [t for t in draw.tasks if t.status not in (TaskStatus.PLANNED, TaskStatus.CANCELLED)]
    if started:
        raise DrawError(_("已有任务开始检查，不能放弃本次抽取"))
    # Lock the row: a witness or a draw racing with the abandonment is either before it or refused.
    locked = _rowcount(
        update(Draw)
        .where(Draw.id == draw.id, Draw.status == draw.status)
        .values(status=draw.status)
        .execution_options(synchronize_session=False)
    )
    if locked != 1:
        raise DrawError(_("抽取状态已变化，请刷新后重试"), draw)
    old = draw.status
    draw.status = DrawStatus.ABANDONED
    draw.abandoned_at = _log(draw, "abandon", {"reason": _public_text(draw, reason)})
    draw.abandoned_reason = reason
    draw.abandoned_by_id = getattr(actor, "id", None)
    # an abandoned draw is published with its secret and result, and closed (no 递补 can follow)
    draw.published_at = _log(draw, "publish", {"server_secret": draw.server_secret})
    data: dict[str, Any] = {"status": [old.value, "abandoned"], "server_secret": draw.server_secret}
    if draw.has_log:
        draw.closed_at = _log(draw, "close", {"replacement_secret": draw.replacement_secret})
        data["replacement_secret"] = draw.replacement_secret
    for t in draw.tasks:
        t.status = TaskStatus.CANCELLED
    audit.record(actor, "draw.abandoned", draw, data, reason=reason, org_id=draw.org_id)
    return draw


def close_blockers(draw: Draw) -> list[Task]:
    """The tasks that keep a supervisor from closing the draw: neither done (submitted) nor cancelled."""
    return [t for t in draw.tasks if t.status not in (TaskStatus.SUBMITTED, TaskStatus.CANCELLED)]


def close_due_date(period: str) -> dt.date:
    """The day the daily job closes a draw: the first day after the end of the month after its period."""
    year, month = parse_period(period)
    month += 2
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def close(actor: User | None, draw: Draw, *, scheduled: bool = False, today: dt.date | None = None) -> Draw:
    """Close a published /2 draw: the replacement secret is revealed and no 递补 follows.

    A supervisor (or ``flask draw close``) may close once every task is done or cancelled; the daily job
    (``scheduled``) closes at the end of the month after the period whatever the tasks' state.
    """
    if not draw.has_log:
        raise DrawError(_("该抽取按旧版规则（suijian-draw/1）进行，没有递补密钥，无需结束"))
    if draw.is_closed:
        raise DrawError(_("本次抽取已结束"))
    if draw.status != DrawStatus.PUBLISHED:
        raise DrawError(_("公布后才能结束抽取"))
    today = today or calendar.today()
    if scheduled:
        if today < close_due_date(draw.period):
            raise DrawError(_("未到自动结束日期"))
    else:
        open_tasks = close_blockers(draw)
        if open_tasks:
            raise DrawError(_("还有%(n)d项任务未完成检查，不能结束本次抽取", n=len(open_tasks)))
    locked = _rowcount(
        update(Draw)
        .where(Draw.id == draw.id, Draw.closed_at.is_(None))
        .values(closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if locked != 1:
        db.session.refresh(draw)
        raise DrawError(_("本次抽取已结束"), draw)
    draw.closed_at = _log(draw, "close", {"replacement_secret": draw.replacement_secret})
    audit.record(
        actor,
        "draw.closed",
        draw,
        {"replacement_secret": draw.replacement_secret, "scheduled": scheduled},
        org_id=draw.org_id,
    )
    return draw


def close_due(today: dt.date | None = None) -> list[Draw]:
    """The daily job: close every published /2 draw whose month after the period has ended."""
    today = today or calendar.today()
    candidates = (
        db.session.execute(
            select(Draw)
            .where(Draw.status == DrawStatus.PUBLISHED, Draw.closed_at.is_(None), Draw.spec != SPEC_V1)
            .order_by(Draw.id)
        )
        .scalars()
        .all()
    )
    closed = []
    for draw in candidates:
        if today >= close_due_date(draw.period):
            close(None, draw, scheduled=True, today=today)
            closed.append(draw)
    return closed


def replace(actor: User | None, draw: Draw, task: Task, slot: int, reason: str) -> Replacement:
    """递补抽取 for ``slot`` of ``task``: same pool, everyone ever on the task excluded, availability as of now.

    /2 draws pick with ``rseed`` (the replacement secret, revealed at closing) and record who was excluded
    now and why (``excluded_now``); no 递补 once the draw is closed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DrawError(_("递补抽取必须填写原因"))
    if draw.is_closed:
        raise DrawError(_("本次抽取已结束，不能再递补"))
    if draw.status not in (DrawStatus.DRAWN, DrawStatus.PUBLISHED) or task.draw_id != draw.id:
        raise DrawError(_("该任务不能递补"))
    if draw.result is None or draw.seed is None or task.seq is None:  # a drawn task of a drawn draw has all three
        raise DrawError(_("该任务不能递补"))
    if task.status != TaskStatus.PLANNED:
        raise DrawError(_("任务已开始，不能递补"))
    slots = draw.pool.get("slots", [])
    current = next((a for a in task.assignments if a.active and a.slot == slot), None)
    if current is None and not (draw.has_log and 0 <= slot < len(slots)):
        raise DrawError(_("没有该岗位"))
    entry = draw.result[task.seq]
    rnd = (
        db.session.execute(
            select(func.count(Replacement.id)).where(Replacement.task_id == task.id, Replacement.slot == slot)
        ).scalar()
        or 0
    ) + 1
    ever = {a.inspector.public_id for a in task.assignments}
    excluded = excluded_now(draw, task)
    if draw.has_log:
        rseed = engine.replacement_seed(draw.seed, draw.replacement_secret or "")
        winner, candidates, excluded_list = engine.replace(
            draw.pool, rseed, entry, slot, rnd, ever, excluded, spec=draw.spec
        )
    else:
        winner, candidates, excluded_list = engine.replace(
            draw.pool, draw.seed, entry, slot, rnd, ever, excluded, spec=draw.spec
        )
    if winner is None:
        raise DrawError(_("人员库中没有可递补的人员"))
    newcomer = db.session.execute(select(Inspector).where(Inspector.public_id == winner)).scalar_one()
    now = utcnow()
    out_id = current.inspector.public_id if current is not None else None
    if current is not None:
        current.active = False
        current.ended_at = now
        current.ended_reason = reason
    if 0 <= slot < len(slots):
        role = slots[slot]
    elif current is not None:
        role = {"dept": current.dept, "role": current.role}
    else:
        raise DrawError(_("该任务没有这个检查岗位"))
    db.session.add(
        TaskAssignment(task_id=task.id, slot=slot, dept=role["dept"], role=role["role"], inspector_id=newcomer.id)
    )
    rep = Replacement(
        draw_id=draw.id,
        task_id=task.id,
        slot=slot,
        round=rnd,
        out_inspector_id=current.inspector_id if current is not None else None,
        in_inspector_id=newcomer.id,
        reason=reason,
        candidates=candidates,
        excluded_now=excluded_list if draw.has_log else None,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(rep)
    db.session.flush()
    _log(
        draw,
        "replace",
        {
            "unit_id": entry["unit_id"],
            "slot": slot,
            "round": rnd,
            "out": out_id,
            "in": winner,
            "reason": _public_text(draw, reason),
            "candidates": candidates,
            "excluded_now": excluded_list,
        },
        now,
    )
    audit.record(
        actor,
        "draw.replaced",
        draw,
        {
            "task": task.public_id,
            "slot": slot,
            "round": rnd,
            "out": out_id,
            "in": winner,
            "candidates": candidates,
            "excluded_now": excluded_list,
        },
        reason=reason,
        org_id=draw.org_id,
    )
    return rep


def excluded_now(draw: Draw, task: Task) -> dict[str, str]:
    """The frozen pool's inspectors the system excludes now for ``task``, with a reason code each.

    From the current records: leave or secondment on the planned date (``leave``), a freeze (``frozen``), a
    certificate no longer valid (``certificate``), a conflict declared since (``conflict``), an inspector or
    organisation gone (``inactive``), anything else (``other``). The engine keeps those that are eligible.
    """
    from webapp.draw.pool import inspector_pool

    day = task.planned_date
    in_pool, out = inspector_pool(
        set(draw.plan.inspector_org_ids), sorted({s["dept"] for s in draw.pool["slots"]}), day, day
    )
    unit_id = draw.result[task.seq]["unit_id"] if draw.result and task.seq is not None else None
    now: dict[str, str] = {}
    for i in in_pool:
        if day.isoformat() in i["unavailable"]:
            now[i["id"]] = "leave"
        elif unit_id is not None and unit_id in i["conflicts"]:
            now[i["id"]] = "conflict"
    for i in out:
        codes = [_POOL_REASON_NOW.get(r, "other") for r in i["reasons"]]
        now[i["inspector_id"]] = next((c for c in EXCLUDED_NOW_REASONS if c in codes), "other")
    known = {i["id"] for i in in_pool} | set(now)
    for i in draw.pool["inspectors"]:
        if i["id"] not in known:  # no longer among the organisations' inspectors
            now[i["id"]] = "inactive"
    return {i["id"]: now[i["id"]] for i in draw.pool["inspectors"] if i["id"] in now}


# --------------------------------------------------------------------------------------------- bundle


def bundle(draw: Draw) -> dict:
    """The verification bundle (DRAW_SPEC section 5) at any stage, each secret null before its time.

    The seed and the server secret appear once the draw is public (published or abandoned); the
    replacement secret and ``rseed`` once it is closed. /1 draws keep their bundle of version 1.
    """
    if draw.has_log:
        return _bundle_v2(draw)
    revealed = draw.status in PUBLIC_STATUSES

    def ts(v: dt.datetime | None) -> str | None:
        return v.isoformat(timespec="seconds") if v else None

    return {
        "spec": draw.spec,
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
        "seed": draw.seed if revealed else None,
        "result": draw.result or [],
        "replacements": [
            {
                "unit_id": r.task.unit.public_id,
                "slot": r.slot,
                "round": r.round,
                "out": r.out_inspector.public_id if r.out_inspector else None,
                "in": r.in_inspector.public_id,
                "reason": r.reason,
                "candidates": r.candidates,
            }
            for r in draw.replacements
        ],
        "excluded": draw.excluded,
    }


def bundle_status(draw: Draw) -> str:
    """The bundle's ``draw.status``: committed, drawn, published or closed (an abandoned draw is closed)."""
    if draw.is_closed:
        return "closed"
    if draw.status in PUBLIC_STATUSES:
        return "published"
    return "drawn" if draw.result is not None else "committed"


def final_assignments(result: list[dict], replacements: list[dict]) -> list[dict]:
    """``result`` with the replacements applied, as ``{"unit_id", "assignments"}`` per task in task order."""
    final = [{"unit_id": t["unit_id"], "assignments": [dict(a) for a in t["assignments"]]} for t in result]
    by_unit = {t["unit_id"]: t for t in final}
    for r in replacements:
        task = by_unit.get(r["unit_id"])
        if task is None:
            continue
        for a in task["assignments"]:
            if a["slot"] == r["slot"]:
                a["inspector_id"] = r["in"]
    return final


def _bundle_v2(draw: Draw) -> dict:
    rows = list(
        db.session.execute(select(DrawEvent).where(DrawEvent.draw_id == draw.id).order_by(DrawEvent.n)).scalars()
    )
    log = [e.as_event() for e in rows]
    first_at: dict[str, dict] = {}
    for e in log:
        first_at.setdefault(e["type"], e)
    published = "publish" in first_at
    closed = "close" in first_at
    seed = draw.seed if published else None
    replacements = [
        {"seq": i, **e["data"], "at": e["at"]}
        for i, e in enumerate((e for e in log if e["type"] == "replace"), start=1)
    ]
    result = draw.result or []

    def at(kind: str) -> str | None:
        return first_at[kind]["at"] if kind in first_at else None

    return {
        "spec": draw.spec,
        "draw": {
            "id": draw.public_id,
            "org": draw.org.code,
            "item": draw.plan.item.code,
            "period": draw.period,
            "status": bundle_status(draw),
            "committed_at": at("commit"),
            "drawn_at": at("draw"),
            "published_at": at("publish"),
            "closed_at": at("close"),
            "abandoned_reason": first_at["abandon"]["data"]["reason"] if "abandon" in first_at else None,
        },
        "pool": draw.pool,
        "pool_hash": draw.pool_hash,
        "commitment": draw.commitment,
        "replacement_commitment": draw.replacement_commitment,
        "witness": [e["data"]["value"] for e in log if e["type"] == "witness"],
        "server_secret": draw.server_secret if published else None,
        "seed": seed,
        "replacement_secret": draw.replacement_secret if closed else None,
        "rseed": engine.replacement_seed(seed, draw.replacement_secret or "") if closed and seed else None,
        "result": result,
        "replacements": replacements,
        "final": final_assignments(result, replacements),
        "log": log,
        "log_head": rows[-1].head if rows else engine.head0(draw.public_id),
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
    window = due_window(period)
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
