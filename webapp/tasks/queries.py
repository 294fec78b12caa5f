"""An inspector's own tasks (我的任务), grouped the way a person plans a day: overdue, today, this week, later, done.

Only tasks where the inspector holds an active assignment are listed (a replaced inspector loses the task);
tasks of an abandoned draw are cancelled and not shown. Drawn tasks are listed before publication too: the
assigned inspectors are among the few who may see an unpublished draw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.draw.models import Task, TaskAssignment, TaskStatus
from webapp.extensions import db
from webapp.registry.models import Inspector

GROUPS = ("overdue", "today", "week", "later", "done")


@dataclass
class TaskRow:
    task: Task
    my_role: str  # lead | assist
    partners: list[Inspector]


@dataclass
class MyTasks:
    groups: dict[str, list[TaskRow]] = field(default_factory=lambda: {g: [] for g in GROUPS})

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.groups.values())


def group_of(task: Task, today: dt.date) -> str:
    if task.status == TaskStatus.SUBMITTED:
        return "done"
    if task.planned_date < today:
        return "overdue"
    if task.planned_date == today:
        return "today"
    week_end = today + dt.timedelta(days=6 - today.weekday())
    return "week" if task.planned_date <= week_end else "later"


def my_tasks(inspector: Inspector | None, today: dt.date, done_limit: int = 20) -> MyTasks:
    result = MyTasks()
    if inspector is None:
        return result
    tasks = (
        db.session.execute(
            select(Task)
            .join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(
                TaskAssignment.inspector_id == inspector.id,
                TaskAssignment.active.is_(True),
                Task.status != TaskStatus.CANCELLED,
            )
            .options(
                selectinload(Task.unit),
                selectinload(Task.item_version),
                selectinload(Task.assignments).selectinload(TaskAssignment.inspector),
            )
            .order_by(Task.planned_date, Task.id)
        )
        .scalars()
        .unique()
        .all()
    )
    for task in tasks:
        active = task.active_assignments
        mine = next(a for a in active if a.inspector_id == inspector.id)
        row = TaskRow(task=task, my_role=mine.role, partners=[a.inspector for a in active if a is not mine])
        result.groups[group_of(task, today)].append(row)
    result.groups["done"] = result.groups["done"][-done_limit:][::-1]
    return result


def month_task_counts(user, today: dt.date) -> dict[str, int]:
    """This month's tasks of the organisations the user oversees, by status (one grouped query)."""
    from sqlalchemy import func

    from webapp.auth.permissions import visible_org_ids

    first = today.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    stmt = (
        select(Task.status, func.count(Task.id))
        .where(Task.planned_date >= first, Task.planned_date < after, Task.status != TaskStatus.CANCELLED)
        .group_by(Task.status)
    )
    orgs = visible_org_ids(user)
    if orgs is not None:
        stmt = stmt.where(Task.org_id.in_(orgs))
    counts = {str(status): n for status, n in db.session.execute(stmt)}
    overdue_stmt = select(func.count(Task.id)).where(
        Task.planned_date >= first,
        Task.planned_date < today,
        Task.status.in_([TaskStatus.PLANNED, TaskStatus.IN_PROGRESS]),
    )
    if orgs is not None:
        overdue_stmt = overdue_stmt.where(Task.org_id.in_(orgs))
    counts["overdue"] = db.session.execute(overdue_stmt).scalar() or 0
    counts["total"] = sum(n for k, n in counts.items() if k != "overdue")
    return counts
