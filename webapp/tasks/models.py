"""Tasks (检查任务): what is to be inspected, where, when and by whom (the assignments to inspector slots).

A task comes from a draw (``draw``), is made by hand (举报投诉/转办交办, marked 非随机抽取) or is the 复查 of an
order's deadline (``tasks.services``). The draw package creates and refills tasks; this package owns them.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import UTCDateTime, created_at, intpk, new_public_id, str40, str_enum
from webapp.extensions import Model
from webapp.registry.models import Inspector, Unit

if TYPE_CHECKING:
    from webapp.draw.models import Draw


class TaskKind(enum.StrEnum):
    ROUTINE = "routine"  # drawn from an annual plan
    SPECIAL = "special"  # drawn from a special plan
    COMPLAINT = "complaint"  # 举报投诉 — not drawn
    REFERRAL = "referral"  # 转办交办 — not drawn
    REINSPECTION = "reinspection"  # 复查


MANUAL_KINDS = (TaskKind.COMPLAINT, TaskKind.REFERRAL)  # made by hand, marked 非随机抽取


class TaskStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"  # only for tasks of an abandoned draw; kept


class Task(Model):
    __tablename__ = "task"
    __table_args__ = (Index("ix_task_unit_planned", "unit_id", "planned_date"),)

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("T"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # responsible organisation
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draw.id"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # order in the draw's result
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind, "task_kind"))
    planned_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus, "task_status"), default=TaskStatus.PLANNED)
    origin_note: Mapped[str | None] = mapped_column(Text)  # complaint / referral source, marked not drawn
    parent_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))  # 复查 of …
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]

    unit: Mapped[Unit] = relationship()
    draw: Mapped[Draw | None] = relationship(back_populates="tasks")  # draw.models: the draw a task came from
    item_version = relationship("ItemVersion")
    assignments: Mapped[list[TaskAssignment]] = relationship(
        back_populates="task", order_by="(TaskAssignment.slot, TaskAssignment.id)"
    )

    @property
    def active_assignments(self) -> list[TaskAssignment]:
        return [a for a in self.assignments if a.active]


class TaskAssignment(Model):
    """Inspector in slot ``slot`` of a task. A replacement ends the row (active=False) and adds a new one."""

    __tablename__ = "task_assignment"
    __table_args__ = (
        Index("ix_task_assignment_inspector_active", "inspector_id", "active"),
        # the month's figures per inspector: the active assignments of a set of tasks
        Index("ix_task_assignment_task_inspector", "task_id", "inspector_id", "active"),
    )

    id: Mapped[intpk]
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    dept: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10))  # lead (主办) | assist (协办)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[created_at]
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(Text)

    task: Mapped[Task] = relationship(back_populates="assignments")
    inspector: Mapped[Inspector] = relationship()
