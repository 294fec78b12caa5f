"""Read-only task look-ups: this month's task counts of the organisations a user oversees.

An inspector's own list (我的任务) reads inspections, orders and publication deadlines too and lives above
them, in ``webapp.home.queries``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from webapp.auth.access import visible_org_ids
from webapp.auth.models import User
from webapp.extensions import db
from webapp.tasks.models import Task, TaskStatus


def month_task_counts(user: User, today: dt.date) -> dict[str, int]:
    """This month's tasks of the organisations the user oversees, by status (one grouped query)."""
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
