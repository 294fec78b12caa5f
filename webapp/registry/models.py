"""两库: units (检查对象名录库) and inspectors (执法检查人员名录库), and the import jobs that fill them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import Organisation
from webapp.db import UTCDateTime, created_at, intpk, new_public_id, str40, str100, str200, str_enum, utcnow
from webapp.extensions import Model


class ObjectType(enum.StrEnum):
    """检查对象类型: which kind of subject a unit is; an item draws only from its target types."""

    SOCIAL_UNIT = "social_unit"  # 社会单位
    TECH_SERVICE = "tech_service"  # 消防技术服务机构
    CIVIL_DEFENCE = "civil_defence"  # 人防工程


class UnitClass(enum.StrEnum):
    KEY = "key"  # 消防安全重点单位
    GENERAL = "general"  # 一般单位
    NINE_SMALL = "nine_small"  # 九小场所
    OTHER = "other"  # 其他


class RiskLevel(enum.StrEnum):
    RED = "red"  # 红 重大风险
    YELLOW = "yellow"  # 黄 较大风险
    BLUE = "blue"  # 蓝 一般风险
    GREEN = "green"  # 绿 低风险


class CreditLevel(enum.StrEnum):
    GOOD = "good"  # 良好
    NORMAL = "normal"  # 一般
    POOR = "poor"  # 较差 / 失信


class UnitStatus(enum.StrEnum):
    ACTIVE = "active"  # 正常
    CLOSED = "closed"  # 已停业/注销
    ZOMBIE = "zombie"  # 僵尸单位 (does not exist at the address)


class Unit(Model):
    """A unit in 检查对象名录库. Never deleted: closing or marking zombie is a status change."""

    __tablename__ = "unit"
    __table_args__ = (
        Index("ix_unit_org_status_class", "org_id", "status", "unit_class"),
        Index("ix_unit_name", "name"),
        Index("ix_unit_address", "address"),
        Index("ix_unit_org_object_type", "org_id", "object_type"),
    )

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("U"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str200]
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    address: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    legal_rep: Mapped[str | None] = mapped_column(String(50))  # 法定代表人/负责人
    safety_person: Mapped[str | None] = mapped_column(String(50))  # 消防安全责任人
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    object_type: Mapped[ObjectType] = mapped_column(
        str_enum(ObjectType, "object_type"), default=ObjectType.SOCIAL_UNIT, server_default=ObjectType.SOCIAL_UNIT.value
    )
    unit_class: Mapped[UnitClass | None] = mapped_column(str_enum(UnitClass, "unit_class"))
    crowded: Mapped[bool] = mapped_column(Boolean, default=False)  # 人员密集场所
    risk_level: Mapped[RiskLevel] = mapped_column(str_enum(RiskLevel, "risk_level"), default=RiskLevel.BLUE)
    credit_level: Mapped[CreditLevel] = mapped_column(str_enum(CreditLevel, "credit_level"), default=CreditLevel.NORMAL)
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    serious_violation: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    status: Mapped[UnitStatus] = mapped_column(str_enum(UnitStatus, "unit_status"), default=UnitStatus.ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    org: Mapped[Organisation] = relationship()

    @property
    def missing_fields(self) -> list[str]:
        """Names of the data-quality fields this unit lacks (see registry.services.QUALITY_FIELDS)."""
        return [f for f in ("address", "uscc", "safety_person", "unit_class") if not getattr(self, f)]


class InspectorStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"


class Inspector(Model):
    """A person in 执法检查人员名录库. Only a valid 行政执法资格 certificate puts them in a draw pool."""

    __tablename__ = "inspector"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("I"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    post: Mapped[str] = mapped_column(String(40))  # 专职消防监督员, 兼职消防监督员, 消防文员, 市场监管执法人员 …
    rank: Mapped[str | None] = mapped_column(String(40))
    specialties: Mapped[str | None] = mapped_column(String(200))
    cert_no: Mapped[str | None] = mapped_column(String(40), unique=True)  # 行政执法证件号
    cert_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    can_lead: Mapped[bool] = mapped_column(Boolean, default=False)  # 可任主办
    draw_weight: Mapped[int] = mapped_column(Integer, default=100)  # percent, 1..1000
    status: Mapped[InspectorStatus] = mapped_column(
        str_enum(InspectorStatus, "inspector_status"), default=InspectorStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    org: Mapped[Organisation] = relationship()
    unavailability: Mapped[list[InspectorUnavailability]] = relationship(
        back_populates="inspector", order_by="InspectorUnavailability.start_date"
    )
    conflicts: Mapped[list[InspectorConflict]] = relationship(back_populates="inspector")

    def cert_valid_on(self, day: dt.date) -> bool:
        return bool(self.cert_no) and self.cert_valid_until is not None and self.cert_valid_until >= day


class InspectorUnavailability(Model):
    """A period an inspector cannot be drawn (leave, secondment, training …), with its reason."""

    __tablename__ = "inspector_unavailability"

    id: Mapped[intpk]
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]

    inspector: Mapped[Inspector] = relationship(back_populates="unavailability")


class InspectorConflict(Model):
    """A declared conflict of interest (利害关系): the inspector is never drawn for this unit (回避)."""

    __tablename__ = "inspector_conflict"
    __table_args__ = (UniqueConstraint("inspector_id", "unit_id", name="uq_inspector_conflict_pair"),)

    id: Mapped[intpk]
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]

    inspector: Mapped[Inspector] = relationship(back_populates="conflicts")
    unit: Mapped[Unit] = relationship()


class ImportJob(Model):
    """A bulk import: validated fully, then committed whole or not at all. Progress is polled from the DB."""

    __tablename__ = "import_job"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("J"))
    kind: Mapped[str] = mapped_column(String(20))  # units | inspectors
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    filename: Mapped[str100]
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending running failed done
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str | None] = mapped_column(Text)  # JSON list of {row, column, message}
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # written by its worker while running
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
