"""文书: rectification orders (责令立即改正 / 《责令限期改正通知书》), their numbering and follow-up.

Numbers are allocated from ``OrderCounter`` (one row per organisation, year and kind) inside the
transaction that creates the order, so a rolled-back order gives its number back and two inspectors
issuing at the same moment never get the same number (see ``services.allocate_seq``).

Issuing is idempotent: the issue form carries a key (``client_key``, a UUID); the same key again gives the
order already issued. A record gets one order of each kind: ``services.issue_order`` locks the record before
it looks, and a unique index (over the keyed orders, i.e. every order issued since keys exist) backs that up.

An order's stored ``status`` is what was recorded (pending → rectified / not_rectified); "overdue" is
computed from the deadline and today (``display_status``), so it is never stale.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import Organisation
from webapp.db import JSONText, UTCDateTime, created_at, intpk, str_enum
from webapp.extensions import Model
from webapp.registry.models import Unit
from webapp.tasks.models import Task

DEFAULT_PATTERNS = {"deadline": "{abbr}限字〔{year}〕第{seq:04d}号", "immediate": "{abbr}即字〔{year}〕第{seq:04d}号"}


class OrderKind(enum.StrEnum):
    IMMEDIATE = "immediate"  # 责令立即改正
    DEADLINE = "deadline"  # 责令限期改正


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # 待复查
    RECTIFIED = "rectified"  # 已改正
    NOT_RECTIFIED = "not_rectified"  # 逾期未改正 (a follow-up is recorded)


class FollowUpKind(enum.StrEnum):
    PENALTY = "penalty"  # 行政处罚
    REFERRAL = "referral"  # 移送其他部门
    PENDING = "pending"  # 待后续处理


def new_token() -> str:
    return secrets.token_urlsafe(24)


class OrgNoticeSettings(Model):
    """Per-organisation numbering (文书代字 and one pattern per kind, see webapp.documents.pdf.format_order_number)."""

    __tablename__ = "org_notice_settings"

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    abbr: Mapped[str] = mapped_column(String(20))  # 文书代字, e.g. 偃消
    pattern_deadline: Mapped[str] = mapped_column(String(100), default=DEFAULT_PATTERNS["deadline"])
    pattern_immediate: Mapped[str] = mapped_column(String(100), default=DEFAULT_PATTERNS["immediate"])
    updated_at: Mapped[created_at]


class OrderCounter(Model):
    """The last number given for one organisation, year and kind (gap-free, see services.allocate_seq)."""

    __tablename__ = "order_counter"
    __table_args__ = (UniqueConstraint("org_id", "year", "kind", name="uq_order_counter_org_year_kind"),)

    id: Mapped[intpk]
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


# orders issued before the key existed may hold two of a kind for one record (the bug the key fixed)
_KEYED = text("client_key IS NOT NULL")


class RectificationOrder(Model):
    __tablename__ = "rectification_order"
    __table_args__ = (
        UniqueConstraint("org_id", "year", "kind", "seq", name="uq_rectification_order_seq"),
        Index(
            "uq_rectification_order_inspection_kind",
            "inspection_id",
            "kind",
            unique=True,
            sqlite_where=_KEYED,
            postgresql_where=_KEYED,
        ),
    )

    id: Mapped[intpk]
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)  # public verification (/v/…)
    # the issue form's key (a UUID): posting the same form again gives this order, never a second number
    client_key: Mapped[str | None] = mapped_column(String(36), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[OrderKind] = mapped_column(str_enum(OrderKind, "order_kind"))
    number: Mapped[str] = mapped_column(String(100), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    problems: Mapped[list] = mapped_column(JSONText)  # [{"text": …, "basis": …}]
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    issued_on: Mapped[dt.date] = mapped_column(Date)  # the date on the notice (Asia/Shanghai)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deadline_days: Mapped[int] = mapped_column(Integer, default=0)  # working days
    deadline: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_status"), default=OrderStatus.PENDING)
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status_note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[list | None] = mapped_column(JSONText)  # 复查: [true/false per problem], in problem order
    reinspection_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))

    org: Mapped[Organisation] = relationship()
    unit: Mapped[Unit] = relationship()
    task: Mapped[Task] = relationship(foreign_keys=[task_id])
    reinspection_task: Mapped[Task | None] = relationship(foreign_keys=[reinspection_task_id])
    follow_ups: Mapped[list[FollowUp]] = relationship(back_populates="order", order_by="FollowUp.id")

    def display_status(self, today: dt.date) -> str:
        """pending / rectified / overdue (pending past its deadline, or recorded as not put right)."""
        if self.status == OrderStatus.RECTIFIED:
            return "rectified"
        if self.status == OrderStatus.NOT_RECTIFIED or today > self.deadline:
            return "overdue"
        return "pending"


class FollowUp(Model):
    """What happened after a problem was not put right: a penalty decision, a referral, or 待后续处理."""

    __tablename__ = "order_follow_up"

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(ForeignKey("rectification_order.id"), index=True)
    kind: Mapped[FollowUpKind] = mapped_column(str_enum(FollowUpKind, "follow_up_kind"))
    decision_number: Mapped[str | None] = mapped_column(String(100))  # 行政处罚决定书文号
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    referred_to: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # penalties: public by decision date + 7 working days (see Inspection.publish_due_on)
    publish_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    order: Mapped[RectificationOrder] = relationship(back_populates="follow_ups")
