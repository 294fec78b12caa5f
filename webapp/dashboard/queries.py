"""Aggregations for the supervisor dashboard. Every figure is one grouped SQL query; no loops over records.

Scope is always the user's organisation and its children (``visible_org_ids``; ``None`` = all, for admins).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from webapp import calendar
from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation
from webapp.draw.models import Plan, PlanKind, PlanStatus
from webapp.draw.plans import DEFAULT_TARGETS
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus, superseded
from webapp.rectification.models import OrderStatus, RectificationOrder
from webapp.registry.models import Inspector, Unit, UnitStatus
from webapp.registry.units.queries import stratum_expr
from webapp.tasks.models import Task, TaskAssignment, TaskStatus

OPEN = (TaskStatus.PLANNED, TaskStatus.IN_PROGRESS)
CLASSES = ("key_crowded", "key", "general", "nine_small")


def _scoped(stmt, column, orgs: set[int] | None):
    return stmt if orgs is None else stmt.where(column.in_(orgs))


def _year_start(today: dt.date) -> dt.datetime:
    return calendar.day_start_utc(dt.date(today.year, 1, 1))


def _done_join():
    """The task's original submitted record (one per task: ``start`` locks the task; supplements supersede it),
    whose ``submitted_at`` is when the task was done. Joined directly, no grouping over inspections."""
    done = aliased(Inspection)
    on = and_(done.task_id == Task.id, done.status == InspectionStatus.SUBMITTED, done.supersedes_id.is_(None))
    return done, on


@dataclass
class MonthRow:
    key: int
    name: str
    planned: int
    in_progress: int
    done: int
    overdue: int
    due10: int
    done10: int
    due20: int
    done20: int


def _month_columns(today: dt.date, done):
    first = today.replace(day=1)
    d11, d21 = first.replace(day=11), first.replace(day=21)
    by10, by20 = calendar.day_start_utc(d11), calendar.day_start_utc(d21)

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    return [
        func.count(Task.id).label("planned"),  # one row per task (per inspector: one active slot each)
        n(Task.status == TaskStatus.IN_PROGRESS).label("in_progress"),
        n(Task.status == TaskStatus.SUBMITTED).label("done"),
        n(and_(Task.status.in_(OPEN), Task.planned_date < today)).label("overdue"),
        n(Task.planned_date < d11).label("due10"),
        n(done.submitted_at < by10).label("done10"),
        n(Task.planned_date < d21).label("due20"),
        n(done.submitted_at < by20).label("done20"),
    ]


def _month_where(stmt, today: dt.date):
    first = today.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return stmt.where(Task.planned_date >= first, Task.planned_date < after, Task.status != TaskStatus.CANCELLED)


def month_by_org(user, today: dt.date) -> list[MonthRow]:
    """This month's tasks per responsible organisation (大队), with the 10th / 20th checkpoints."""
    done, on = _done_join()
    name = func.coalesce(Organisation.short_name, Organisation.name)
    stmt = (
        select(Organisation.id, name, *_month_columns(today, done))
        .select_from(Task)
        .join(Organisation, Organisation.id == Task.org_id)
        .outerjoin(done, on)
        .group_by(Organisation.id, name)
        .order_by(name)
    )
    stmt = _scoped(_month_where(stmt, today), Task.org_id, visible_org_ids(user))
    return [MonthRow(*row) for row in db.session.execute(stmt)]


def month_by_inspector(user, today: dt.date) -> list[MonthRow]:
    """This month's tasks per inspector holding an active assignment (lead or assist)."""
    done, on = _done_join()
    stmt = (
        select(Inspector.id, Inspector.name, *_month_columns(today, done))
        .select_from(Task)
        .join(TaskAssignment, and_(TaskAssignment.task_id == Task.id, TaskAssignment.active.is_(True)))
        .join(Inspector, Inspector.id == TaskAssignment.inspector_id)
        .outerjoin(done, on)
        .group_by(Inspector.id, Inspector.name)
        .order_by(Inspector.name, Inspector.id)
    )
    stmt = _scoped(_month_where(stmt, today), Task.org_id, visible_org_ids(user))
    return [MonthRow(*row) for row in db.session.execute(stmt)]


@dataclass
class Coverage:
    cls: str
    units: int
    inspected: int
    target: int  # percent

    @property
    def pct(self) -> float:
        return 100.0 * self.inspected / self.units if self.units else 0.0


def _class_key():
    return stratum_expr(unclassified="other")  # the unit's stratum, as the draw counts it


def plan_targets(user, year: int) -> dict[str, int]:
    """The highest yearly target per class among the active routine plans in scope; the defaults otherwise."""
    stmt = _scoped(
        select(Plan.targets).where(Plan.year == year, Plan.kind == PlanKind.ROUTINE, Plan.status == PlanStatus.ACTIVE),
        Plan.org_id,
        visible_org_ids(user),
    )
    targets: dict[str, int] = {}
    for (t,) in db.session.execute(stmt):
        for k, v in (t or {}).items():
            targets[k] = max(targets.get(k, 0), int(v))
    return {k: targets.get(k, DEFAULT_TARGETS[k]) for k in CLASSES}


def coverage(user, today: dt.date) -> list[Coverage]:
    """Per unit class: active units, and distinct active units with a submitted inspection this year."""
    year = today.year
    orgs = visible_org_ids(user)
    key = _class_key().label("cls")
    units = _scoped(select(key, func.count()).where(Unit.status == UnitStatus.ACTIVE).group_by(key), Unit.org_id, orgs)
    inspected = _scoped(
        select(key, func.count(Unit.id.distinct()))
        .select_from(Inspection)
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .where(
            Inspection.status == InspectionStatus.SUBMITTED,
            Inspection.submitted_at >= calendar.day_start_utc(dt.date(year, 1, 1)),
            Inspection.submitted_at < calendar.day_start_utc(dt.date(year + 1, 1, 1)),
            Unit.status == UnitStatus.ACTIVE,
        )
        .group_by(key),
        Unit.org_id,
        orgs,
    )
    done = dict(db.session.execute(inspected).all())
    counts = {cls: (n, done.get(cls, 0)) for cls, n in db.session.execute(units)}
    targets = plan_targets(user, year)
    return [Coverage(c, *counts.get(c, (0, 0)), targets[c]) for c in CLASSES]


def projection(pct: float, today: dt.date) -> float:
    """Linear projection of a year-to-date percentage to 31 December (capped at 100)."""
    start = dt.date(today.year, 1, 1)
    days = (dt.date(today.year + 1, 1, 1) - start).days
    elapsed = (today - start).days + 1
    return min(100.0, pct * days / elapsed)


def _current_inspections():
    """Submitted inspections not superseded by a later supplementary record."""
    return Inspection.status == InspectionStatus.SUBMITTED, ~superseded()


def categories(user, today: dt.date) -> dict[str, int]:
    """This year's published-category distribution of the current submitted inspections."""
    start = _year_start(today)
    stmt = (
        select(Inspection.category, func.count(Inspection.id))
        .where(*_current_inspections(), Inspection.submitted_at >= start, Inspection.category.is_not(None))
        .group_by(Inspection.category)
    )
    stmt = _scoped(stmt, Inspection.org_id, visible_org_ids(user))
    return {str(cat): n for cat, n in db.session.execute(stmt)}


@dataclass
class OrderRow:
    key: str
    open: int
    overdue: int


def _orders_by(column, user, today: dt.date) -> list[OrderRow]:
    label = column.label("k")
    stmt = (
        select(
            label,
            func.count(RectificationOrder.id),
            func.coalesce(func.sum(case((RectificationOrder.deadline < today, 1), else_=0)), 0),
        )
        .join(Unit, Unit.id == RectificationOrder.unit_id)
        .where(RectificationOrder.status == OrderStatus.PENDING)
        .group_by(label)
        .order_by(label)
    )
    stmt = _scoped(stmt, RectificationOrder.org_id, visible_org_ids(user))
    return [OrderRow("" if k is None else str(k), n, late) for k, n, late in db.session.execute(stmt)]


def orders_by_region(user, today: dt.date) -> list[OrderRow]:
    """Open (待复查) rectification orders and those past their deadline, per region of the unit."""
    return _orders_by(Unit.region, user, today)


def orders_by_risk(user, today: dt.date) -> list[OrderRow]:
    """Open and overdue rectification orders per risk level of the unit."""
    return _orders_by(Unit.risk_level, user, today)


# ---------------------------------------------------------------------------------------------- warning signs

BURST = 4  # this many results submitted by one person within an hour is a warning sign
BURST_SECONDS = 3600
MIN_SECONDS = 600  # an inspection shorter than 10 minutes is a warning sign
FAR_KM = 1.0
KM_PER_DEGREE = 111.195


def _seconds(later, earlier):
    """``later - earlier`` in seconds, in SQL, on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _epoch(column):
    """A timestamp as seconds (a number), in SQL, on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        return func.julianday(column) * 86400.0
    return func.extract("epoch", column)


def _cos_deg(deg):
    """cos of an angle in degrees as a polynomial (SQLite has no trig); error < 1e-4 up to 60°."""
    x = deg * 0.017453292519943295
    x2 = x * x
    return 1 - x2 / 2 + x2 * x2 / 24 - x2 * x2 * x2 / 720


@dataclass
class WarningSign:
    kind: str  # burst | far | no_photo | short
    task_public_id: str
    unit_name: str
    who: str
    at: dt.datetime
    figure: float  # burst: results in the hour; far: km (squared until finished); short: minutes


def _base(user, today: dt.date, limit: int):
    from webapp.auth.models import User

    start = _year_start(today)
    return (
        select(Task.public_id, Unit.name, func.coalesce(User.display_name, User.username), Inspection.submitted_at)
        .select_from(Inspection)
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .outerjoin(User, User.id == Inspection.submitted_by_id)
        .where(
            Inspection.status == InspectionStatus.SUBMITTED,
            Inspection.supersedes_id.is_(None),  # the original record; supplements may be quick
            Inspection.submitted_at >= start,
        )
        .order_by(Inspection.submitted_at.desc())
        .limit(limit)
    )


def warnings(user, today: dt.date, limit: int = 50) -> list[WarningSign]:
    """Warning signs in this year's submitted inspections, newest first within each kind."""
    from webapp.inspections.models import Photo

    orgs = visible_org_ids(user)
    out: list[WarningSign] = []

    def run(kind, stmt, figure=None):
        stmt = _scoped(stmt, Inspection.org_id, orgs)
        for row in db.session.execute(stmt):
            out.append(WarningSign(kind, row[0], row[1], row[2] or "", row[3], float(row[4]) if figure else 0.0))

    # many results by one person within an hour: the first inspection of each such run and the count after it.
    # One pass with window functions over this year's original records, per submitter in time order.
    t = _epoch(Inspection.submitted_at)
    per_person = {"partition_by": Inspection.submitted_by_id}
    runs = (
        select(
            Inspection.id.label("id"),
            t.label("t"),
            func.count().over(**per_person, order_by=t, range_=(0, BURST_SECONDS - 1)).label("in_hour"),
            func.lag(t).over(**per_person, order_by=(t, Inspection.id)).label("prev_t"),
        )
        .where(
            Inspection.status == InspectionStatus.SUBMITTED,
            Inspection.supersedes_id.is_(None),
            Inspection.submitted_by_id.is_not(None),
            Inspection.submitted_at >= _year_start(today),
        )
        .subquery()
    )
    run(
        "burst",
        _base(user, today, limit)
        .join(runs, runs.c.id == Inspection.id)
        .add_columns(runs.c.in_hour)
        .where(
            runs.c.in_hour >= BURST,
            or_(runs.c.prev_t.is_(None), runs.c.t - runs.c.prev_t >= BURST_SECONDS),
        ),
        figure=True,
    )

    # check-in more than 1 km from the unit's recorded coordinates (both known); squared km in SQL
    dy = (Inspection.checkin_lat - Unit.latitude) * KM_PER_DEGREE
    dx = (Inspection.checkin_lon - Unit.longitude) * KM_PER_DEGREE * _cos_deg(Unit.latitude)
    km2 = dy * dy + dx * dx
    run(
        "far",
        _base(user, today, limit)
        .add_columns(km2)
        .where(
            Inspection.checkin_lat.is_not(None),
            Inspection.checkin_lon.is_not(None),
            Unit.latitude.is_not(None),
            Unit.longitude.is_not(None),
            km2 > FAR_KM * FAR_KM,
        ),
        figure=True,
    )
    for w in out:
        if w.kind == "far":
            w.figure = w.figure**0.5

    run(
        "no_photo",
        _base(user, today, limit).where(~select(Photo.id).where(Photo.inspection_id == Inspection.id).exists()),
    )
    minutes = _seconds(Inspection.submitted_at, Inspection.started_at) / 60.0
    run("short", _base(user, today, limit).add_columns(minutes).where(minutes < MIN_SECONDS / 60.0), figure=True)
    return out


# ---------------------------------------------------------------------------------- this month: cannot go


@dataclass
class CannotGo:
    task_public_id: str
    unit_name: str
    planned_date: dt.date
    inspector: str
    org: str
    leave: str | None  # the reason of the leave / secondment covering the date
    frozen: bool
    cert_expired: bool  # no certificate, or valid only until before the date
    conflict: str | None  # the declared 利害关系


def cannot_go(user, today: dt.date, limit: int = 50) -> tuple[list[CannotGo], int]:
    """This month's open tasks with an active inspector who cannot go on the planned date, and how many in all.

    One query: the assignments of this month's open tasks, each with its reasons (leave and conflict from
    subqueries on the small per-inspector tables), kept when any reason holds; the total by a window count.
    """
    from webapp.registry.models import InspectorConflict, InspectorStatus, InspectorUnavailability

    first = today.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    leave = (
        select(func.max(InspectorUnavailability.reason))
        .where(
            InspectorUnavailability.inspector_id == Inspector.id,
            InspectorUnavailability.cancelled.is_(False),
            InspectorUnavailability.start_date <= Task.planned_date,
            InspectorUnavailability.end_date >= Task.planned_date,
        )
        .scalar_subquery()
    )
    conflict = (
        select(func.max(InspectorConflict.reason))
        .where(
            InspectorConflict.inspector_id == Inspector.id,
            InspectorConflict.unit_id == Task.unit_id,
            InspectorConflict.active.is_(True),
        )
        .scalar_subquery()
    )
    frozen = Inspector.status != InspectorStatus.ACTIVE
    expired = or_(Inspector.cert_valid_until.is_(None), Inspector.cert_valid_until < Task.planned_date)
    inner = (
        select(
            Task.public_id,
            Unit.name.label("unit_name"),
            Task.planned_date,
            Inspector.name.label("inspector"),
            func.coalesce(Organisation.short_name, Organisation.name).label("org"),
            leave.label("leave"),
            case((frozen, 1), else_=0).label("frozen"),
            case((expired, 1), else_=0).label("expired"),
            conflict.label("conflict"),
            Unit.name.label("sort_name"),
        )
        .select_from(Task)
        .join(TaskAssignment, and_(TaskAssignment.task_id == Task.id, TaskAssignment.active.is_(True)))
        .join(Inspector, Inspector.id == TaskAssignment.inspector_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(Organisation, Organisation.id == Task.org_id)
        .where(Task.planned_date >= first, Task.planned_date < after, Task.status.in_(OPEN))
    )
    inner = _scoped(inner, Task.org_id, visible_org_ids(user)).subquery()
    stmt = (
        select(
            inner.c.public_id,
            inner.c.unit_name,
            inner.c.planned_date,
            inner.c.inspector,
            inner.c.org,
            inner.c.leave,
            inner.c.frozen,
            inner.c.expired,
            inner.c.conflict,
            func.count().over().label("total"),
        )
        .where(
            or_(inner.c.leave.is_not(None), inner.c.frozen == 1, inner.c.expired == 1, inner.c.conflict.is_not(None))
        )
        .order_by(inner.c.planned_date, inner.c.sort_name, inner.c.public_id, inner.c.inspector)
        .limit(limit)
    )
    rows, total = [], 0
    for r in db.session.execute(stmt):
        total = r.total
        rows.append(
            CannotGo(
                r.public_id,
                r.unit_name,
                r.planned_date,
                r.inspector,
                r.org,
                r.leave,
                bool(r.frozen),
                bool(r.expired),
                r.conflict,
            )
        )
    return rows, total


# ---------------------------------------------------------------------------------- this month: draw on time


@dataclass
class DrawTimeliness:
    org_id: int
    org: str
    window: list[dt.date]  # this month's draw window: the last two working days of the previous month
    plans: int  # active routine plans covering this month
    drawn: int  # of which with a (live) draw for this month
    late: int  # draws committed after the window
    committed_at: dt.datetime | None  # the last commitment for this month
    published: int
    published_at: dt.datetime | None
    next_due: object  # webapp.draw.services.DrawDue for next month (its .state: upcoming/due/late/done)

    @property
    def state(self) -> str:
        """按时 ``on_time`` / 迟 ``late`` / 未抽取 ``missing`` / no plan for this month ``none``."""
        if not self.plans:
            return "none"
        if self.drawn < self.plans:
            return "missing"
        return "late" if self.late else "on_time"

    @property
    def next_state(self) -> str:
        """Next month's draw: ``DrawDue.state`` (upcoming / due / done; its "late" as ``overdue``), or ``no_plan``."""
        if not self.next_due.plans_total:
            return "no_plan"
        state = self.next_due.state
        return "overdue" if state == "late" else state


def _period(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _draw_window(year: int, month: int) -> list[dt.date]:
    """The draw window held in ``month``: its last two working days, as ``next_draw_due`` computes it."""
    first, last = calendar.month_bounds(year, month)
    return calendar.last_working_days(year, month, 2, calendar.db_overrides(first, last))


def draw_timeliness(user, today: dt.date) -> list[DrawTimeliness]:
    """Per organisation with active routine plans: this month's draw against its window, next month's state.

    One grouped query over the plans covering this or next month and their live draws of those two periods.
    Next month's state is ``draw.services.DrawDue`` built from the same counts (the rule lives there).
    """
    from webapp.draw.models import Draw, DrawStatus
    from webapp.draw.services import DrawDue

    this_first = today.replace(day=1)
    nxt = (this_first + dt.timedelta(days=32)).replace(day=1)
    prev = this_first - dt.timedelta(days=1)
    this_p, next_p = _period(today), _period(nxt)
    window = _draw_window(prev.year, prev.month)
    cutoff = calendar.day_start_utc(window[-1] + dt.timedelta(days=1)) if window else calendar.day_start_utc(this_first)

    def covers(day: dt.date):
        return and_(Plan.year == day.year, Plan.start_month <= day.month, Plan.end_month >= day.month)

    this_draw = and_(Draw.period == this_p, covers(this_first))
    next_draw = and_(Draw.period == next_p, covers(nxt))
    name = func.coalesce(Organisation.short_name, Organisation.name)
    stmt = (
        select(
            Plan.org_id,
            name,
            func.count(case((covers(this_first), Plan.id)).distinct()),
            func.count(case((this_draw, Draw.plan_id)).distinct()),
            func.count(case((and_(this_draw, Draw.committed_at >= cutoff), Draw.id)).distinct()),
            func.max(case((this_draw, Draw.committed_at))),
            func.count(case((and_(this_draw, Draw.published_at.is_not(None)), Draw.id)).distinct()),
            func.max(case((this_draw, Draw.published_at))),
            func.count(case((covers(nxt), Plan.id)).distinct()),
            func.count(case((next_draw, Draw.plan_id)).distinct()),
        )
        .select_from(Plan)
        .join(Organisation, Organisation.id == Plan.org_id)
        .outerjoin(
            Draw,
            and_(Draw.plan_id == Plan.id, Draw.period.in_((this_p, next_p)), Draw.status != DrawStatus.ABANDONED),
        )
        .where(
            Plan.kind == PlanKind.ROUTINE,
            Plan.status == PlanStatus.ACTIVE,
            or_(covers(this_first), covers(nxt)),
        )
        .group_by(Plan.org_id, name)
        .order_by(name)
    )
    stmt = _scoped(stmt, Plan.org_id, visible_org_ids(user))
    next_window = _draw_window(today.year, today.month)
    out = []
    for org_id, org, plans, drawn, late, c_at, pub, p_at, n_plans, n_done in db.session.execute(stmt):
        due = DrawDue(period=next_p, window=next_window, plans_done=n_done, plans_total=n_plans, today=today)
        out.append(DrawTimeliness(org_id, org, window, plans, drawn, late, c_at, pub, p_at, due))
    return out


# ------------------------------------------------------------------------------------------------ results


@dataclass
class ProblemRow:
    point: str | None  # the checklist point's text; None: findings recorded without a point (其他问题)
    findings: int
    units: int


def frequent_problems(user, today: dt.date, limit: int = 10) -> list[ProblemRow]:
    """This year's most frequent problems: findings of current records per checklist point text, top ``limit``."""
    from webapp.catalog.models import ChecklistPoint
    from webapp.inspections.models import Finding

    n = func.count(Finding.id)
    stmt = (
        select(ChecklistPoint.text, n, func.count(Task.unit_id.distinct()))
        .select_from(Finding)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(Task, Task.id == Inspection.task_id)
        .outerjoin(ChecklistPoint, ChecklistPoint.id == Finding.point_id)
        .where(*_current_inspections(), Inspection.submitted_at >= _year_start(today))
        .group_by(ChecklistPoint.text)
        .order_by(n.desc(), ChecklistPoint.text)
        .limit(limit)
    )
    stmt = _scoped(stmt, Inspection.org_id, visible_org_ids(user))
    return [ProblemRow(*row) for row in db.session.execute(stmt)]


OUTCOMES = ("rectified", "not_rectified", "pending", "overdue")


def order_outcomes(user, today: dt.date) -> dict[str, int]:
    """This year's rectification orders by 复查 outcome: rectified / not rectified / pending (not yet due) / overdue."""
    key = case(
        (RectificationOrder.status == OrderStatus.RECTIFIED, literal("rectified")),
        (RectificationOrder.status == OrderStatus.NOT_RECTIFIED, literal("not_rectified")),
        (RectificationOrder.deadline < today, literal("overdue")),
        else_=literal("pending"),
    ).label("k")
    stmt = select(key, func.count(RectificationOrder.id)).where(RectificationOrder.year == today.year).group_by(key)
    stmt = _scoped(stmt, RectificationOrder.org_id, visible_org_ids(user))
    counts = dict(db.session.execute(stmt).all())
    return {k: counts.get(k, 0) for k in OUTCOMES}


def follow_ups(user, today: dt.date) -> dict[str, int]:
    """Follow-ups recorded for this year's orders not put right, by kind (penalty / referral / pending)."""
    from webapp.rectification.models import FollowUp, FollowUpKind

    stmt = (
        select(FollowUp.kind, func.count(FollowUp.id))
        .join(RectificationOrder, RectificationOrder.id == FollowUp.order_id)
        .where(RectificationOrder.year == today.year)
        .group_by(FollowUp.kind)
    )
    stmt = _scoped(stmt, RectificationOrder.org_id, visible_org_ids(user))
    counts = {str(k): n for k, n in db.session.execute(stmt)}
    return {k.value: counts.get(k.value, 0) for k in FollowUpKind}


@dataclass
class RateRow:
    key: str  # "" = not filled in; OTHERS = the folded tail
    inspections: int
    problems: int

    @property
    def rate(self) -> float:
        return 100.0 * self.problems / self.inspections if self.inspections else 0.0


OTHERS = "\x00others"
DIMENSIONS = ("region", "industry", "risk_level")


def _has_problem():
    """A record found a problem: an order on the check form, or a published category other than
    未发现问题 / 未发现开展本次抽查涉及的经营活动 (neither is a problem of the unit)."""
    from webapp.inspections.models import CheckResult, PublishedCategory

    return or_(
        Inspection.result.in_((CheckResult.IMMEDIATE, CheckResult.DEADLINE)),
        and_(
            Inspection.category.is_not(None),
            Inspection.category.not_in((PublishedCategory.NO_PROBLEM, PublishedCategory.NO_ACTIVITY)),
        ),
    )


def problems_by(user, today: dt.date, dims=DIMENSIONS, top: int = 15) -> dict[str, list[RateRow]]:
    """This year's current inspections and those that found problems, per unit ``dims`` (column names of Unit).

    One grouped query over all ``dims`` at once (one pass over the inspections); each dimension is then the sum of
    those groups. Per dimension: the ``top`` values by inspections, the rest folded into ``OTHERS``.
    """
    cols = [getattr(Unit, d) for d in dims]
    problem = func.coalesce(func.sum(case((_has_problem(), 1), else_=0)), 0)
    stmt = (
        select(*cols, func.count(Inspection.id), problem)
        .select_from(Inspection)
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .where(*_current_inspections(), Inspection.submitted_at >= _year_start(today))
        .group_by(*cols)
    )
    stmt = _scoped(stmt, Inspection.org_id, visible_org_ids(user))
    sums: dict[str, dict[str, list[int]]] = {d: {} for d in dims}
    for row in db.session.execute(stmt):  # grouped rows, not records
        n, bad = row[-2], row[-1]
        for d, value in zip(dims, row[: len(dims)], strict=True):
            acc = sums[d].setdefault("" if value is None else str(value), [0, 0])
            acc[0] += n
            acc[1] += bad
    out: dict[str, list[RateRow]] = {}
    for d in dims:
        rows = sorted((RateRow(k, n, bad) for k, (n, bad) in sums[d].items()), key=lambda r: (-r.inspections, r.key))
        if len(rows) > top + 1:
            tail = rows[top:]
            rows = [*rows[:top], RateRow(OTHERS, sum(r.inspections for r in tail), sum(r.problems for r in tail))]
        out[d] = rows
    return out


# ------------------------------------------------------------------------------------ more warning signs

HIGH_LOAD, LOW_LOAD = 1.5, 0.5  # × the median of this month's tasks per available inspector


@dataclass
class Load:
    public_id: str
    inspector: str
    org: str
    tasks: int


@dataclass
class LoadReport:
    inspectors: int
    median: float
    high: list[Load]
    low: list[Load]


def load_balance(user, today: dt.date) -> LoadReport:
    """This month's tasks (active assignments, task not cancelled) per available inspector in scope, zero included.

    Available: status active and a certificate valid today. Those above 1.5× or below 0.5× the median are flagged
    (nothing is flagged while the median is 0). One grouped query; the median of the per-inspector counts in Python.
    """
    from webapp.registry.models import InspectorStatus

    first = today.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    per = (
        select(TaskAssignment.inspector_id, func.count(Task.id.distinct()).label("n"))
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(
            TaskAssignment.active.is_(True),
            Task.planned_date >= first,
            Task.planned_date < after,
            Task.status != TaskStatus.CANCELLED,
        )
        .group_by(TaskAssignment.inspector_id)
        .subquery()
    )
    n = func.coalesce(per.c.n, 0)
    stmt = (
        select(Inspector.public_id, Inspector.name, func.coalesce(Organisation.short_name, Organisation.name), n)
        .join(Organisation, Organisation.id == Inspector.org_id)
        .outerjoin(per, per.c.inspector_id == Inspector.id)
        .where(Inspector.status == InspectorStatus.ACTIVE, Inspector.cert_valid_until >= today)
        .order_by(n.desc(), Inspector.name, Inspector.id)
    )
    stmt = _scoped(stmt, Inspector.org_id, visible_org_ids(user))
    loads = [Load(*row) for row in db.session.execute(stmt)]
    counts = sorted(x.tasks for x in loads)
    if not counts:
        return LoadReport(0, 0.0, [], [])
    mid = len(counts) // 2
    median = float(counts[mid]) if len(counts) % 2 else (counts[mid - 1] + counts[mid]) / 2
    if median <= 0:
        return LoadReport(len(loads), median, [], [])
    high = [x for x in loads if x.tasks > HIGH_LOAD * median]
    low = [x for x in loads if x.tasks < LOW_LOAD * median]
    return LoadReport(len(loads), median, high, sorted(low, key=lambda x: (x.tasks, x.inspector)))


# Audit actions a supervisor should see: deleting or freezing things, abandoning or redoing draws.
SENSITIVE_ACTIONS = (
    "inspector.frozen",
    "inspection.finding_delete",
    "draw.abandoned",
    "draw.replaced",
    "item.deactivated",
    "user.deactivated",
    "org.deactivated",
    "unit.status_changed",
)


@dataclass
class SensitiveEvent:
    action: str
    actor: str
    at: dt.datetime
    reason: str | None
    subject_type: str
    subject_id: str


def sensitive_events(user, today: dt.date, limit: int = 20) -> tuple[list[SensitiveEvent], int]:
    """This month's audit events that delete, freeze or redo something, newest first, and how many in all.

    Scoped by the event's organisation; events without one are shown to admins only.
    """
    from webapp.audit import AuditEvent

    stmt = (
        select(
            AuditEvent.action,
            AuditEvent.actor_name,
            AuditEvent.at,
            AuditEvent.reason,
            AuditEvent.subject_type,
            AuditEvent.subject_id,
            func.count().over(),
        )
        .where(AuditEvent.at >= calendar.day_start_utc(today.replace(day=1)), AuditEvent.action.in_(SENSITIVE_ACTIONS))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    stmt = _scoped(stmt, AuditEvent.org_id, visible_org_ids(user))
    rows = db.session.execute(stmt).all()
    return [SensitiveEvent(*r[:6]) for r in rows], rows[0][6] if rows else 0
