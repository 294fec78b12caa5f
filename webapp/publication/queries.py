"""Read-only look-ups for 公示管理 and the dashboard card: what awaits review, what is about to be late.

Everything is scoped to the organisations the user oversees (``visible_org_ids``) and limited in SQL, so the
page stays fast with a million inspections (``publish_due_on`` and ``published_at`` are indexed).

Drafts have no stored due date yet: a draft checked on day *c* is due ``add_working_days(c, 20)``. As that is
monotone in *c*, "due before day *d*" becomes "checked in before a cut-off instant", found once per request
(:func:`_checked_before`), so the flagged lists are plain range queries on ``checkin_at``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, case, cast, func, or_, select

from webapp import calendar
from webapp.auth.access import visible_org_ids
from webapp.catalog.models import ItemVersion
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus, superseded
from webapp.publication.services import RESULT_WORKING_DAYS
from webapp.rectification.models import FollowUp, FollowUpKind, RectificationOrder
from webapp.registry.models import Unit
from webapp.tasks.models import Task, TaskStatus

SOON_WORKING_DAYS = 3  # 即将超期: due within this many working days
LIST_LIMIT = 50
CARD_ITEMS = 10


@dataclass
class Row:
    kind: str  # result | penalty | draft
    id: Any  # inspection public id, follow-up id, task public id
    unit: str
    item: str
    due: dt.date | None
    days_left: int | None  # working days after today up to the due date; negative once it has passed
    task_public_id: str | None = None
    check_date: dt.date | None = None
    decision_number: str | None = None
    published_at: dt.datetime | None = None


@dataclass
class Section:
    rows: list[Row]
    total: int


@dataclass
class Summary:
    awaiting_review: int = 0
    due_soon: int = 0
    overdue: int = 0
    penalties_awaiting: int = 0
    published_late: int = 0
    items: list[Row] = field(default_factory=list)  # the first about-to-be-late (overdue first)

    @property
    def attention(self) -> int:
        return self.due_soon + self.overdue


class _Days:
    """Working-day arithmetic around ``today``, with the overrides loaded once and each day looked up once
    (chinese-calendar's look-up is slow, and overdue drafts may lie years back)."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.overrides = calendar.db_overrides(today - dt.timedelta(days=400), today + dt.timedelta(days=400))
        self._workday: dict[dt.date, bool] = {}

    def is_workday(self, day: dt.date) -> bool:
        found = self._workday.get(day)
        if found is None:
            found = self._workday[day] = calendar.is_workday(day, self.overrides)
        return found

    def add(self, day: dt.date, n: int) -> dt.date:
        """Like ``calendar.add_working_days``."""
        while n:
            day += dt.timedelta(days=1)
            n -= self.is_workday(day)
        return day

    def left(self, due: dt.date) -> int:
        """Working days after today up to ``due``; negative (at least -1) once it has passed."""
        lo, hi = sorted((self.today, due))
        n = sum(self.is_workday(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        return n if due >= self.today else -max(n, 1)

    def last_check_day(self, due_before: dt.date) -> dt.date:
        """The latest check day whose result falls due before ``due_before``."""
        day = due_before - dt.timedelta(days=1)
        while self.add(day, RESULT_WORKING_DAYS) >= due_before:
            day -= dt.timedelta(days=1)
        return day


def _scoped(stmt, column, user: Any):
    orgs = visible_org_ids(user)
    return stmt if orgs is None else stmt.where(column.in_(orgs))


def _count(stmt) -> int:
    return db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0


# ---------------------------------------------------------------------------------- 待公示 (review)


def _awaiting_stmt(user: Any, today: dt.date):
    stmt = (
        select(Inspection, Unit.name, ItemVersion.name, Task.public_id)
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .where(
            Inspection.status == InspectionStatus.SUBMITTED,
            Inspection.published_at.is_(None),
            Inspection.publish_due_on > today,
            ~superseded(),
        )
        .order_by(Inspection.publish_due_on, Inspection.id)
    )
    return _scoped(stmt, Inspection.org_id, user)


def awaiting_review(user: Any, today: dt.date, page: int = 1, per_page: int = LIST_LIMIT) -> tuple[Section, bool]:
    """Submitted results not yet public, with working days left, oldest deadline first. (section, has_next)"""
    days = _Days(today)
    stmt = _awaiting_stmt(user, today)
    found = db.session.execute(stmt.offset((max(1, page) - 1) * per_page).limit(per_page + 1)).all()
    rows = [
        Row(
            "result",
            ins.public_id,
            unit,
            item,
            ins.publish_due_on,
            days.left(ins.publish_due_on),
            task_public_id=task_id,
            check_date=calendar.local_date(ins.checkin_at or ins.submitted_at),
        )
        for ins, unit, item, task_id in found[:per_page]
    ]
    return Section(rows, _count(stmt)), len(found) > per_page


def inspections_to_publish(user: Any, public_ids: list[str], today: dt.date) -> list[Inspection]:
    """The user's results awaiting publication among ``public_ids`` (others are ignored)."""
    if not public_ids:
        return []
    stmt = _awaiting_stmt(user, today).where(Inspection.public_id.in_(public_ids[:500]))
    return [row[0] for row in db.session.execute(stmt)]


# ------------------------------------------------------------------------- flagged: not yet entered


def _drafts_stmt(user: Any):
    stmt = (
        select(Inspection.checkin_at, Unit.name, ItemVersion.name, Task.public_id)
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .where(
            Inspection.status == InspectionStatus.DRAFT,
            Inspection.publish_due_on.is_(None),  # always so for drafts; lets the database use its index
            Inspection.checkin_at.is_not(None),
            Inspection.supersedes_id.is_(None),
            Task.status != TaskStatus.CANCELLED,
        )
        .order_by(Inspection.checkin_at, Inspection.id)
    )
    return _scoped(stmt, Inspection.org_id, user)


def _flag_bounds(days: _Days, within: int) -> tuple[dt.datetime, dt.datetime]:
    """(overdue_before, soon_before): check-ins before the first are past due; before the second, due soon."""
    overdue_before = calendar.day_start_utc(days.last_check_day(days.today) + dt.timedelta(days=1))
    soon_limit = days.add(days.today, within) + dt.timedelta(days=1)
    soon_before = calendar.day_start_utc(days.last_check_day(soon_limit) + dt.timedelta(days=1))
    return overdue_before, soon_before


def _draft_rows(days: _Days, found) -> list[Row]:
    out = []
    for checkin_at, unit, item, task_id in found:
        checked = calendar.local_date(checkin_at)
        due = days.add(checked, RESULT_WORKING_DAYS)
        out.append(Row("draft", task_id, unit, item, due, days.left(due), task_public_id=task_id, check_date=checked))
    return out


def _draft_counts(user: Any, overdue_before: dt.datetime, soon_before: dt.datetime) -> tuple[int, int]:
    """(due soon, overdue) drafts in one pass."""
    base = _drafts_stmt(user).order_by(None).where(Inspection.checkin_at < soon_before).subquery()
    overdue = case((base.c.checkin_at < overdue_before, 1), else_=0)
    soon, late = db.session.execute(select(func.count() - func.coalesce(func.sum(overdue), 0), func.sum(overdue))).one()
    return soon or 0, late or 0


def flagged(
    user: Any, today: dt.date, within: int = SOON_WORKING_DAYS, limit: int = LIST_LIMIT
) -> tuple[Section, Section]:
    """Checked in but not submitted: (即将超期 due within ``within`` working days, 已超期未录入 past due)."""
    days = _Days(today)
    overdue_before, soon_before = _flag_bounds(days, within)
    soon = _drafts_stmt(user).where(Inspection.checkin_at >= overdue_before, Inspection.checkin_at < soon_before)
    overdue = _drafts_stmt(user).where(Inspection.checkin_at < overdue_before)
    n_soon, n_overdue = _draft_counts(user, overdue_before, soon_before)
    return (
        Section(_draft_rows(days, db.session.execute(soon.limit(limit))), n_soon),
        Section(_draft_rows(days, db.session.execute(overdue.limit(limit))), n_overdue),
    )


# ---------------------------------------------------------------------------------------- penalties


def _penalties_stmt(user: Any, today: dt.date):
    stmt = (
        select(FollowUp, Unit.name, RectificationOrder.number, RectificationOrder.org_id)
        .join(RectificationOrder, RectificationOrder.id == FollowUp.order_id)
        .join(Unit, Unit.id == RectificationOrder.unit_id)
        .where(
            FollowUp.kind == FollowUpKind.PENALTY,
            FollowUp.published_at.is_(None),
            FollowUp.publish_due_on > today,
        )
        .order_by(FollowUp.publish_due_on, FollowUp.id)
    )
    return _scoped(stmt, RectificationOrder.org_id, user)


def penalties_awaiting(user: Any, today: dt.date, limit: int = LIST_LIMIT) -> Section:
    days = _Days(today)
    stmt = _penalties_stmt(user, today)
    rows = [
        Row("penalty", fu.id, unit, number, fu.publish_due_on, days.left(fu.publish_due_on),
            decision_number=fu.decision_number, check_date=fu.decision_date)
        for fu, unit, number, _org in db.session.execute(stmt.limit(limit))
    ]  # fmt: skip
    return Section(rows, _count(stmt))


def penalties_to_publish(user: Any, ids: list[int], today: dt.date) -> list[tuple[FollowUp, int]]:
    if not ids:
        return []
    stmt = _penalties_stmt(user, today).where(FollowUp.id.in_(ids[:500]))
    return [(fu, org_id) for fu, _unit, _number, org_id in db.session.execute(stmt)]


# ------------------------------------------------------------------------------------ published late


def _local_day(column):
    """SQL: the Asia/Shanghai date of a UTC timestamp column, on PostgreSQL and SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, "+8 hours")  # SQLite stores UTC; China has no daylight saving time


def _late_stmt(user: Any, today: dt.date):
    """Results due this year that went public after their due date: published by someone after it, or
    submitted after it (the system's stamp after the deadline is not late: the result was public on time)."""
    first, last = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    stmt = (
        select(Inspection, Unit.name, ItemVersion.name, Task.public_id)
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .where(
            Inspection.publish_due_on >= first,
            Inspection.publish_due_on <= last,
            Inspection.published_at.is_not(None),
            _local_day(Inspection.published_at) > Inspection.publish_due_on,
            or_(
                Inspection.published_by_id.is_not(None),
                _local_day(Inspection.submitted_at) > Inspection.publish_due_on,
            ),
        )
        .order_by(Inspection.publish_due_on.desc(), Inspection.id.desc())
    )
    return _scoped(stmt, Inspection.org_id, user)


def published_late(user: Any, today: dt.date, limit: int = LIST_LIMIT) -> Section:
    days = _Days(today)
    stmt = _late_stmt(user, today)
    rows = [
        Row("result", ins.public_id, unit, item, ins.publish_due_on, days.left(ins.publish_due_on),
            task_public_id=task_id, published_at=ins.published_at)
        for ins, unit, item, task_id in db.session.execute(stmt.limit(limit))
    ]  # fmt: skip
    return Section(rows, _count(stmt))


# ---------------------------------------------------------------------------------------- dashboard


def dashboard_summary(user: Any, today: dt.date) -> Summary:
    """Counts for the dashboard card (公示时限) and the first ~10 about-to-be-late items, overdue first."""
    days = _Days(today)
    overdue_before, soon_before = _flag_bounds(days, SOON_WORKING_DAYS)
    # overdue first (the oldest check-ins), then those due soon: one ordered list up to the soon bound
    due = _drafts_stmt(user).where(Inspection.checkin_at < soon_before)
    n_soon, n_overdue = _draft_counts(user, overdue_before, soon_before)
    return Summary(
        awaiting_review=_count(_awaiting_stmt(user, today)),
        due_soon=n_soon,
        overdue=n_overdue,
        penalties_awaiting=_count(_penalties_stmt(user, today)),
        published_late=_count(_late_stmt(user, today)),
        items=_draft_rows(days, db.session.execute(due.limit(CARD_ITEMS))),
    )
