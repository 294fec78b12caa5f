"""Reads of rectification: 一户一档, a unit's history (visits and results, orders with deadlines and outcomes,
penalties, draws, and the problems still open to re-check on the next visit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from webapp import calendar
from webapp.auth import access
from webapp.auth.models import User
from webapp.extensions import db
from webapp.inspections.labels import CATEGORY_LABELS, RESULT_LABELS
from webapp.inspections.models import Inspection, InspectionStatus, superseded
from webapp.rectification.labels import FOLLOW_UP, ORDER_KIND, ORDER_STATE
from webapp.rectification.models import FollowUpKind, OrderStatus, RectificationOrder
from webapp.registry.models import Unit
from webapp.tasks.labels import NOT_DRAWN, TASK_KIND, TASK_STATUS
from webapp.tasks.models import Task, TaskStatus


@dataclass
class VisitRow:
    task: Task
    kind: str
    status: str
    not_drawn: str | None
    draw: str | None
    record: Inspection | None
    result: str | None
    category: str | None
    findings: list[str]
    orders: list[dict]


@dataclass
class UnitHistory:
    visits: list[VisitRow] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    penalties: list[dict] = field(default_factory=list)
    draws: list[str] = field(default_factory=list)
    open_problems: list[dict] = field(default_factory=list)  # to re-check on the next visit


def _record_in_force(task: Task) -> Inspection | None:
    return db.session.execute(
        select(Inspection)
        .where(Inspection.task_id == task.id, Inspection.status == InspectionStatus.SUBMITTED, ~superseded())
        .order_by(Inspection.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _order_row(user: User, order: RectificationOrder, today: dt.date) -> dict:
    outcome = order.outcome or []
    return {
        "order": order,
        "number": order.number,
        "kind": ORDER_KIND[order.kind],
        "issued_on": order.issued_on,
        "deadline": order.deadline,
        "state": ORDER_STATE[order.display_status(today)],
        "state_code": order.display_status(today),
        "problems": [
            {"text": p.get("text", ""), "basis": p.get("basis", ""), "fixed": outcome[i] if i < len(outcome) else None}
            for i, p in enumerate(order.problems or [])
        ],
        "follow_ups": [FOLLOW_UP[f.kind] for f in order.follow_ups],
        "link": access.can_view_order(user, order),
    }


def unit_history(user: User, unit: Unit, exclude_task: Task | None = None, limit: int = 20) -> UnitHistory:
    """一户一档: the unit's inspections and their results, orders with deadlines and outcomes, penalties, the
    draws it was drawn in, and the problems still open (orders not put right yet) to re-check. Tasks of draws not
    yet public are left out for users who may not see them (access.can_view_task)."""
    today = calendar.today()
    history = UnitHistory()
    tasks = db.session.execute(
        select(Task)
        .where(Task.unit_id == unit.id, Task.status != TaskStatus.CANCELLED)
        .order_by(Task.planned_date.desc(), Task.id.desc())
        .limit(limit + 1)
    ).scalars()
    orders = list(
        db.session.execute(
            select(RectificationOrder)
            .where(RectificationOrder.unit_id == unit.id)
            .order_by(RectificationOrder.issued_on.desc(), RectificationOrder.id.desc())
        ).scalars()
    )
    by_task: dict[int, list[dict]] = {}
    for order in orders:
        row = _order_row(user, order, today)
        history.orders.append(row)
        by_task.setdefault(order.task_id, []).append(row)
        if order.status == OrderStatus.PENDING:
            history.open_problems += [
                {"text": p["text"], "basis": p["basis"], "number": order.number, "deadline": order.deadline}
                for p in row["problems"]
            ]
        for f in order.follow_ups:
            if f.kind == FollowUpKind.PENALTY:
                history.penalties.append(
                    {"number": f.decision_number, "date": f.decision_date, "note": f.note, "order": order.number}
                )
    for task in tasks:
        if (exclude_task is not None and task.id == exclude_task.id) or not access.can_view_task(user, task):
            continue
        record = _record_in_force(task) if task.status == TaskStatus.SUBMITTED else None
        draw = f"{task.draw.period} · {task.draw.public_id}" if task.draw is not None else None
        if draw and draw not in history.draws:
            history.draws.append(draw)
        history.visits.append(
            VisitRow(
                task=task,
                kind=str(TASK_KIND[task.kind]),
                status=str(TASK_STATUS[task.status]),
                not_drawn=str(NOT_DRAWN[task.kind]) if task.kind in NOT_DRAWN else None,
                draw=draw,
                record=record,
                result=str(RESULT_LABELS[record.result]) if record and record.result else None,
                category=str(CATEGORY_LABELS[record.category]) if record and record.category else None,
                findings=[f.text for f in record.findings] if record else [],
                orders=by_task.get(task.id, []),
            )
        )
    history.visits = history.visits[:limit]
    return history
