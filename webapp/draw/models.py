"""Plans, draws and the tasks they assign (双随机).

A ``Draw`` is never deleted: it moves committed → drawn → published, or to abandoned (with a reason,
and is published like any other). Its pool, commitment, secret, witnesses, seed and result are kept as
the exact JSON that the public bundle carries, so the bundle is read back, never re-derived.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import UTCDateTime, created_at, intpk, new_public_id, str40
from webapp.extensions import db
from webapp.registry.models import Inspector, Organisation, Unit, _enum


class JSONText(TypeDecorator):
    """JSON stored as canonical text (portable; byte-stable for hashing)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect) -> Any:
        return None if value is None else json.loads(value)


class PlanKind(enum.StrEnum):
    ROUTINE = "routine"  # 日常监督抽查 (annual plan → monthly draws)
    SPECIAL = "special"  # 专项检查 (fire season, holidays, events)


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Plan(db.Model):
    """An annual plan (年度抽查计划) or a special inspection plan for one item."""

    __tablename__ = "plan"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("P"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # who draws
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PlanKind] = mapped_column(_enum(PlanKind, "plan_kind"), default=PlanKind.ROUTINE)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus, "plan_status"), default=PlanStatus.ACTIVE)
    # {"key_crowded": 100, "key": 80, "general": 20, "nine_small": 20, "other": 0}: % of the stratum a year
    targets: Mapped[dict] = mapped_column(JSONText, default=dict)
    # special plans: fixed tasks per stratum per month instead of yearly targets
    monthly_quotas: Mapped[dict | None] = mapped_column(JSONText)
    # 浮动管理: {"risk": {"red": 200, …}, "credit": {"poor": 50, "good": -25}, "complaint_each": 10,
    #            "complaint_max": 100, "serious_violation": 100}
    weights: Mapped[dict] = mapped_column(JSONText, default=dict)
    slots: Mapped[list] = mapped_column(JSONText, default=list)  # [{"dept": "fire", "role": "lead"}, …]
    unit_org_ids: Mapped[list] = mapped_column(JSONText, default=list)  # whose units (cross-region: several 大队)
    inspector_org_ids: Mapped[list] = mapped_column(JSONText, default=list)  # whose inspectors form the pool
    pool_filter: Mapped[dict | None] = mapped_column(JSONText)  # special: classes, regions, industries, crowded
    start_month: Mapped[int] = mapped_column(Integer, default=1)
    end_month: Mapped[int] = mapped_column(Integer, default=12)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]

    org: Mapped[Organisation] = relationship()
    item = relationship("Item")


class DrawStatus(enum.StrEnum):
    COMMITTED = "committed"  # pool frozen, commitment shown; witnesses may enter values
    DRAWN = "drawn"  # result computed; confidential
    PUBLISHED = "published"  # secret revealed, tasks public
    ABANDONED = "abandoned"  # with a reason; published with its result like any other


class Draw(db.Model):
    __tablename__ = "draw"
    __table_args__ = (
        # At most one live draw per plan and period: two supervisors committing at once make one draw.
        Index(
            "uq_draw_plan_period_live",
            "plan_id",
            "period",
            unique=True,
            sqlite_where=text("status != 'abandoned'"),
            postgresql_where=text("status != 'abandoned'"),
        ),
    )

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("D"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    status: Mapped[DrawStatus] = mapped_column(_enum(DrawStatus, "draw_status"), default=DrawStatus.COMMITTED)
    pool: Mapped[dict] = mapped_column(JSONText)
    pool_hash: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    server_secret: Mapped[str] = mapped_column(String(64))  # hex; revealed only on publication
    seed: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[list | None] = mapped_column(JSONText)
    excluded: Mapped[list] = mapped_column(JSONText, default=list)  # [{"unit_id", "reason"}]
    inspector_excluded: Mapped[list] = mapped_column(JSONText, default=list)  # [{"inspector_id", "reasons"}]
    committed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    abandoned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    abandoned_reason: Mapped[str | None] = mapped_column(Text)
    abandoned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    plan: Mapped[Plan] = relationship()
    org: Mapped[Organisation] = relationship()
    witnesses: Mapped[list[DrawWitness]] = relationship(back_populates="draw", order_by="DrawWitness.seq")
    tasks: Mapped[list[Task]] = relationship(back_populates="draw", order_by="Task.seq")
    replacements: Mapped[list[Replacement]] = relationship(back_populates="draw", order_by="Replacement.id")


class DrawWitness(db.Model):
    """A witness (监督员、企业代表、人大代表 …) and the value they typed; the order of entry is kept."""

    __tablename__ = "draw_witness"
    __table_args__ = (UniqueConstraint("draw_id", "seq", name="uq_draw_witness_draw_seq"),)

    id: Mapped[intpk]
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(200))  # NFC-normalised, stripped
    entered_at: Mapped[created_at]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    draw: Mapped[Draw] = relationship(back_populates="witnesses")


class TaskKind(enum.StrEnum):
    ROUTINE = "routine"  # drawn from an annual plan
    SPECIAL = "special"  # drawn from a special plan
    COMPLAINT = "complaint"  # 举报投诉 — not drawn
    REFERRAL = "referral"  # 转办交办 — not drawn
    REINSPECTION = "reinspection"  # 复查


class TaskStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"  # only for tasks of an abandoned draw; kept


class Task(db.Model):
    __tablename__ = "task"
    __table_args__ = (Index("ix_task_unit_planned", "unit_id", "planned_date"),)

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("T"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)  # responsible organisation
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draw.id"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # order in the draw's result
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, "task_kind"))
    planned_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, "task_status"), default=TaskStatus.PLANNED)
    origin_note: Mapped[str | None] = mapped_column(Text)  # complaint / referral source, marked not drawn
    parent_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))  # 复查 of …
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]

    unit: Mapped[Unit] = relationship()
    draw: Mapped[Draw | None] = relationship(back_populates="tasks")
    item_version = relationship("ItemVersion")
    assignments: Mapped[list[TaskAssignment]] = relationship(
        back_populates="task", order_by="(TaskAssignment.slot, TaskAssignment.id)"
    )

    @property
    def active_assignments(self) -> list[TaskAssignment]:
        return [a for a in self.assignments if a.active]


class TaskAssignment(db.Model):
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


class Replacement(db.Model):
    """递补抽取: one refill of one slot, with the reason and the candidates it was drawn from."""

    __tablename__ = "replacement"

    id: Mapped[intpk]
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    out_inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    in_inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    reason: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list] = mapped_column(JSONText)  # inspector public ids
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    draw: Mapped[Draw] = relationship(back_populates="replacements")
    task: Mapped[Task] = relationship()
    out_inspector: Mapped[Inspector] = relationship(foreign_keys=[out_inspector_id])
    in_inspector: Mapped[Inspector] = relationship(foreign_keys=[in_inspector_id])
