"""An inspector's own tasks (我的任务), grouped the way a person plans a day: overdue, today, this week, later, done.

Only tasks where the inspector holds an active assignment are listed (a replaced inspector loses the task);
tasks of an abandoned draw are cancelled and not shown. Drawn tasks are listed before publication too: the
assigned inspectors are among the few who may see an unpublished draw.

Reads only. The 复查 tasks whose order deadline has passed are created by the submit paths and the daily
command (``webapp.rectification``), never by a page load. Tasks with a pending 《责令限期改正通知书》 carry its
deadline and the working days left; done tasks the day their result must be public by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp import calendar
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus
from webapp.publication.services import RESULT_WORKING_DAYS
from webapp.rectification.models import OrderKind, OrderStatus, RectificationOrder
from webapp.registry.models import Inspector
from webapp.tasks.models import Task, TaskAssignment, TaskStatus

GROUPS = ("overdue", "today", "week", "later", "done")


@dataclass
class Deadline:
    """A pending 责令限期改正 order of a task (or the order a 复查 task checks) and its countdown."""

    order: RectificationOrder
    days_left: int  # working days after today up to the deadline; negative once it has passed
    reinspection: bool  # the task is the order's 复查

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


@dataclass
class TaskRow:
    task: Task
    my_role: str  # lead | assist
    partners: list[Inspector]
    deadline: Deadline | None = None
    publish_by: dt.date | None = None  # done tasks: the result is due on the public site by this day
    publish_days_left: int | None = None
    in_progress: bool = False  # 进行中: checked in, the record not submitted yet (an open draft)


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


def _deadlines(task_ids: list[int], today: dt.date) -> dict[int, Deadline]:
    """The pending 限期改正 order of each task (issued on it, or checked by it as 复查), with working days left."""
    if not task_ids:
        return {}
    orders = (
        db.session.execute(
            select(RectificationOrder)
            .where(
                RectificationOrder.kind == OrderKind.DEADLINE,
                RectificationOrder.status == OrderStatus.PENDING,
                RectificationOrder.task_id.in_(task_ids) | RectificationOrder.reinspection_task_id.in_(task_ids),
            )
            .order_by(RectificationOrder.deadline)
        )
        .scalars()
        .all()
    )
    if not orders:
        return {}
    first = min(today, *(o.deadline for o in orders))
    last = max(today, *(o.deadline for o in orders))
    overrides = calendar.db_overrides(first, last)
    out: dict[int, Deadline] = {}
    for o in orders:
        left = calendar.working_days_between(today, o.deadline, overrides)
        if o.deadline < today:
            left = min(left, -1)  # a deadline on a rest day that has passed is still past
        out.setdefault(o.task_id, Deadline(o, left, reinspection=False))
        if o.reinspection_task_id:
            out.setdefault(o.reinspection_task_id, Deadline(o, left, reinspection=True))
    return out


def my_tasks(inspector: Inspector | None, today: dt.date, done_limit: int = 20) -> MyTasks:
    result = MyTasks()
    if inspector is None:
        return result
    mine_active = (
        select(Task)
        .join(TaskAssignment, TaskAssignment.task_id == Task.id)
        .where(TaskAssignment.inspector_id == inspector.id, TaskAssignment.active.is_(True))
        .options(
            selectinload(Task.unit),
            selectinload(Task.item_version),
            selectinload(Task.assignments).selectinload(TaskAssignment.inspector),
        )
    )
    # Open tasks all; of the done ones only the latest few (an inspector's history grows by hundreds a year).
    open_stmt = mine_active.where(Task.status.in_([TaskStatus.PLANNED, TaskStatus.IN_PROGRESS]))
    done_stmt = mine_active.where(Task.status == TaskStatus.SUBMITTED)
    open_tasks = db.session.execute(open_stmt.order_by(Task.planned_date, Task.id)).scalars().unique().all()
    done_tasks = (
        db.session.execute(done_stmt.order_by(Task.planned_date.desc(), Task.id.desc()).limit(done_limit))
        .scalars()
        .unique()
        .all()
    )
    for task in [*open_tasks, *done_tasks]:
        active = task.active_assignments
        mine = next(a for a in active if a.inspector_id == inspector.id)
        row = TaskRow(
            task=task,
            my_role=mine.role,
            partners=[a.inspector for a in active if a is not mine],
        )
        result.groups[group_of(task, today)].append(row)
    rows = [row for group in result.groups.values() for row in group]
    deadlines = _deadlines([row.task.id for row in rows], today)
    drafts = _open_drafts([row.task.id for row in rows if row.task.status != TaskStatus.SUBMITTED])
    for row in rows:
        row.deadline = deadlines.get(row.task.id)
        row.in_progress = row.task.id in drafts
    _publication_deadlines(result.groups["done"], today)
    return result


def _open_drafts(task_ids: list[int]) -> set[int]:
    """The tasks with a started, unsubmitted record (进行中)."""
    if not task_ids:
        return set()
    return set(
        db.session.execute(
            select(Inspection.task_id).where(
                Inspection.task_id.in_(task_ids), Inspection.status == InspectionStatus.DRAFT
            )
        ).scalars()
    )


def _publication_deadlines(rows: list[TaskRow], today: dt.date) -> None:
    """Set, on each done row, the day its result must be public by and the working days left until then.

    The day is the record's ``publish_due_on`` (set on submission, see ``webapp.publication``); records
    submitted before it was stored fall back to the submission date + 20 working days.
    """
    if not rows:
        return
    checked = {
        tid: (due, at)
        for tid, due, at in db.session.execute(
            select(Inspection.task_id, func.min(Inspection.publish_due_on), func.min(Inspection.submitted_at))
            .where(
                Inspection.task_id.in_([r.task.id for r in rows]),
                Inspection.status == InspectionStatus.SUBMITTED,
            )
            .group_by(Inspection.task_id)
        )
    }
    if not checked:
        return
    days = [d for due, at in checked.values() for d in (due, at and calendar.local_date(at)) if d is not None]
    if not days:
        return
    overrides = calendar.db_overrides(min(days), max(today, *days) + dt.timedelta(days=60))
    for row in rows:
        due, at = checked.get(row.task.id, (None, None))
        if due is None and at is not None:
            due = calendar.add_working_days(calendar.local_date(at), RESULT_WORKING_DAYS, overrides)
        if due is None:
            continue
        row.publish_by = due
        left = calendar.working_days_between(today, due, overrides)
        row.publish_days_left = left if due >= today else min(left, -1)
