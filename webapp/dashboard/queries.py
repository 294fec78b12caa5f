"""Aggregations for the supervisor dashboard. Every figure is one grouped SQL query; no loops over records.

Scope is always the user's organisation and its children (``visible_org_ids``; ``None`` = all, for admins).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import aliased

from webapp import calendar
from webapp.auth.permissions import visible_org_ids
from webapp.draw.models import Plan, PlanKind, PlanStatus, Task, TaskAssignment, TaskStatus
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus
from webapp.notices.models import OrderStatus, RectificationOrder
from webapp.registry.models import Inspector, Organisation, Unit, UnitClass, UnitStatus

OPEN = (TaskStatus.PLANNED, TaskStatus.IN_PROGRESS)
CLASSES = ("key_crowded", "key", "general", "nine_small")
DEFAULT_TARGETS = {"key_crowded": 100, "key": 80, "general": 20, "nine_small": 20}


def _scoped(stmt, column, orgs: set[int] | None):
    return stmt if orgs is None else stmt.where(column.in_(orgs))


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` begins in Asia/Shanghai (stored times are UTC)."""
    return dt.datetime.combine(day, dt.time(), calendar.SHANGHAI).astimezone(dt.UTC)


def _done_at():
    """Per task: when its first inspection was submitted."""
    return (
        select(Inspection.task_id, func.min(Inspection.submitted_at).label("done_at"))
        .where(Inspection.status == InspectionStatus.SUBMITTED)
        .group_by(Inspection.task_id)
        .subquery()
    )


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


def _month_columns(today: dt.date, done_at):
    first = today.replace(day=1)
    d11, d21 = first.replace(day=11), first.replace(day=21)
    by10, by20 = _local_midnight_utc(d11), _local_midnight_utc(d21)

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    return [
        func.count(Task.id.distinct()).label("planned"),
        n(Task.status == TaskStatus.IN_PROGRESS).label("in_progress"),
        n(Task.status == TaskStatus.SUBMITTED).label("done"),
        n(and_(Task.status.in_(OPEN), Task.planned_date < today)).label("overdue"),
        n(Task.planned_date < d11).label("due10"),
        n(done_at.c.done_at < by10).label("done10"),
        n(Task.planned_date < d21).label("due20"),
        n(done_at.c.done_at < by20).label("done20"),
    ]


def _month_where(stmt, today: dt.date):
    first = today.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return stmt.where(Task.planned_date >= first, Task.planned_date < after, Task.status != TaskStatus.CANCELLED)


def month_by_org(user, today: dt.date) -> list[MonthRow]:
    """This month's tasks per responsible organisation (大队), with the 10th / 20th checkpoints."""
    done_at = _done_at()
    name = func.coalesce(Organisation.short_name, Organisation.name)
    stmt = (
        select(Organisation.id, name, *_month_columns(today, done_at))
        .select_from(Task)
        .join(Organisation, Organisation.id == Task.org_id)
        .outerjoin(done_at, done_at.c.task_id == Task.id)
        .group_by(Organisation.id, name)
        .order_by(name)
    )
    stmt = _scoped(_month_where(stmt, today), Task.org_id, visible_org_ids(user))
    return [MonthRow(*row) for row in db.session.execute(stmt)]


def month_by_inspector(user, today: dt.date) -> list[MonthRow]:
    """This month's tasks per inspector holding an active assignment (lead or assist)."""
    done_at = _done_at()
    stmt = (
        select(Inspector.id, Inspector.name, *_month_columns(today, done_at))
        .select_from(Task)
        .join(TaskAssignment, and_(TaskAssignment.task_id == Task.id, TaskAssignment.active.is_(True)))
        .join(Inspector, Inspector.id == TaskAssignment.inspector_id)
        .outerjoin(done_at, done_at.c.task_id == Task.id)
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
    return case(
        (and_(Unit.unit_class == UnitClass.KEY, Unit.crowded.is_(True)), literal("key_crowded")),
        (Unit.unit_class == UnitClass.KEY, literal("key")),
        (Unit.unit_class == UnitClass.GENERAL, literal("general")),
        (Unit.unit_class == UnitClass.NINE_SMALL, literal("nine_small")),
        else_=literal("other"),
    )


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
    """Per unit class: active units, and distinct units with a submitted inspection this year."""
    year = today.year
    start = _local_midnight_utc(dt.date(year, 1, 1))
    end = _local_midnight_utc(dt.date(year + 1, 1, 1))
    inspected = (
        select(Task.unit_id)
        .join(Inspection, Inspection.task_id == Task.id)
        .where(
            Inspection.status == InspectionStatus.SUBMITTED,
            Inspection.submitted_at >= start,
            Inspection.submitted_at < end,
        )
        .distinct()
        .subquery()
    )
    key = _class_key().label("cls")
    stmt = (
        select(key, func.count(Unit.id.distinct()), func.count(inspected.c.unit_id.distinct()))
        .select_from(Unit)
        .outerjoin(inspected, inspected.c.unit_id == Unit.id)
        .where(Unit.status == UnitStatus.ACTIVE)
        .group_by(key)
    )
    stmt = _scoped(stmt, Unit.org_id, visible_org_ids(user))
    counts = {cls: (units, done) for cls, units, done in db.session.execute(stmt)}
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
    newer = aliased(Inspection)
    return (
        Inspection.status == InspectionStatus.SUBMITTED,
        ~select(newer.id).where(newer.supersedes_id == Inspection.id).exists(),
    )


def categories(user, today: dt.date) -> dict[str, int]:
    """This year's published-category distribution of the current submitted inspections."""
    start = _local_midnight_utc(dt.date(today.year, 1, 1))
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

    start = _local_midnight_utc(dt.date(today.year, 1, 1))
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

    # many results by one person within an hour: the first inspection of each such run and the count after it
    other, earlier = aliased(Inspection), aliased(Inspection)
    in_hour = (
        select(func.count(other.id))
        .where(
            other.submitted_by_id == Inspection.submitted_by_id,
            other.status == InspectionStatus.SUBMITTED,
            other.supersedes_id.is_(None),
            _seconds(other.submitted_at, Inspection.submitted_at) >= 0,
            _seconds(other.submitted_at, Inspection.submitted_at) < BURST_SECONDS,
        )
        .scalar_subquery()
    )
    run_start = (
        ~select(earlier.id)
        .where(
            earlier.submitted_by_id == Inspection.submitted_by_id,
            earlier.id != Inspection.id,
            earlier.status == InspectionStatus.SUBMITTED,
            earlier.supersedes_id.is_(None),
            _seconds(Inspection.submitted_at, earlier.submitted_at) >= 0,
            _seconds(Inspection.submitted_at, earlier.submitted_at) < BURST_SECONDS,
        )
        .exists()
    )
    run(
        "burst",
        _base(user, today, limit)
        .add_columns(in_hour)
        .where(Inspection.submitted_by_id.is_not(None), in_hour >= BURST, run_start),
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
