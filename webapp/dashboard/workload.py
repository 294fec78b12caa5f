"""An inspector's workload and history, for the registry's inspector page.

The registry sits below tasks and inspections (it cannot import them), so, like the draw's pool state
(``draw.pool.template_globals``), this reaches the page as a template global, ``inspector_activity``,
registered on the app when the dashboard blueprint is (:func:`register`).

- workload: tasks of this month and this year by role (主办 / 协办), done, pending and overdue; tasks of
  abandoned draws (作废) are not work and are left out. One grouped query.
- history: the most recent tasks with their result in force (检查结果, 公示类别, date). One query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select

from webapp import calendar
from webapp.catalog.models import ItemVersion
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus, superseded
from webapp.registry.models import Inspector, Unit
from webapp.tasks.models import Task, TaskAssignment, TaskStatus

ROLES = ("lead", "assist")
HISTORY_LIMIT = 20


@dataclass
class Counts:
    done: int = 0
    pending: int = 0  # planned or in progress, not yet due
    overdue: int = 0  # planned or in progress, planned date passed

    @property
    def total(self) -> int:
        return self.done + self.pending + self.overdue


@dataclass
class Workload:
    month: dict[str, Counts] = field(default_factory=lambda: {r: Counts() for r in ROLES})
    year: dict[str, Counts] = field(default_factory=lambda: {r: Counts() for r in ROLES})
    month_start: dt.date | None = None
    year_start: dt.date | None = None


@dataclass
class HistoryRow:
    task_public_id: str
    planned_date: dt.date
    unit_name: str
    unit_public_id: str
    item_name: str
    role: str
    task_status: TaskStatus
    result: Any  # CheckResult | None
    category: Any  # PublishedCategory | None
    submitted_at: dt.datetime | None


@dataclass
class Activity:
    workload: Workload
    history: list[HistoryRow]


def workload(inspector: Inspector, today: dt.date | None = None) -> Workload:
    """Counts of this inspector's active assignments this month and this year, by role and state."""
    today = today or calendar.today()
    year_start, year_end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    month_start, month_end = calendar.this_month(today)
    open_ = Task.status.in_((TaskStatus.PLANNED, TaskStatus.IN_PROGRESS))
    state = case(
        (Task.status == TaskStatus.SUBMITTED, "done"),
        (and_(open_, Task.planned_date < today), "overdue"),
        else_="pending",
    )
    in_month = and_(Task.planned_date >= month_start, Task.planned_date <= month_end)
    stmt = (
        select(TaskAssignment.role, state.label("state"), in_month.label("in_month"), func.count())
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(
            TaskAssignment.inspector_id == inspector.id,
            TaskAssignment.active.is_(True),
            Task.status != TaskStatus.CANCELLED,
            Task.planned_date >= year_start,
            Task.planned_date <= year_end,
        )
        .group_by(TaskAssignment.role, state, in_month)
    )
    out = Workload(month_start=month_start, year_start=year_start)
    for role, st, month, n in db.session.execute(stmt):
        role = role if role in ROLES else "assist"
        year_counts = out.year[role]
        setattr(year_counts, st, getattr(year_counts, st) + n)
        if month:
            month_counts = out.month[role]
            setattr(month_counts, st, getattr(month_counts, st) + n)
    return out


def history(inspector: Inspector, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """This inspector's most recent tasks (active assignments, newest planned date first) with the result in
    force when one was submitted."""
    in_force = (
        select(Inspection.task_id, Inspection.result, Inspection.category, Inspection.submitted_at)
        .where(Inspection.status == InspectionStatus.SUBMITTED, ~superseded())
        .subquery()
    )
    stmt = (
        select(
            Task.public_id,
            Task.planned_date,
            Unit.name,
            Unit.public_id,
            ItemVersion.name,
            TaskAssignment.role,
            Task.status,
            in_force.c.result,
            in_force.c.category,
            in_force.c.submitted_at,
        )
        .join(Task, Task.id == TaskAssignment.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .outerjoin(in_force, in_force.c.task_id == Task.id)
        .where(TaskAssignment.inspector_id == inspector.id, TaskAssignment.active.is_(True))
        .order_by(Task.planned_date.desc(), Task.id.desc())
        .limit(limit)
    )
    return [HistoryRow(*row) for row in db.session.execute(stmt)]


def activity(inspector: Inspector) -> Activity:
    return Activity(workload=workload(inspector), history=history(inspector))


def register(state: Any) -> None:
    """``bp.record_once`` hook: the template global the registry's inspector page calls."""
    from webapp.inspections.labels import CATEGORY_LABELS, RESULT_LABELS
    from webapp.tasks.labels import SLOT_ROLE, TASK_STATUS

    state.app.jinja_env.globals.update(
        inspector_activity=activity,
        ACTIVITY_LABELS={
            "result": RESULT_LABELS,
            "category": CATEGORY_LABELS,
            "role": SLOT_ROLE,
            "task_status": TASK_STATUS,
        },
    )
