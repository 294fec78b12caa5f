"""On-site inspection records (现场检查): check-in, checklist answers, findings, photos, signatures.

An ``Inspection`` belongs to one task. It is a draft while the inspectors work (autosaved answer by
answer) and becomes immutable when submitted; a correction is a new record that ``supersedes`` the old
one, with a reason. Allowed status transitions live in ``TRANSITIONS``.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    text,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from webapp.db import JSONText, UTCDateTime, created_at, intpk, str40, str_enum, utcnow
from webapp.extensions import Model
from webapp.tasks.models import Task


def new_token() -> str:
    """Unguessable URL token for photos and signatures (192 bits)."""
    return secrets.token_urlsafe(24)


class InspectionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


TRANSITIONS: dict[InspectionStatus, set[InspectionStatus]] = {
    InspectionStatus.DRAFT: {InspectionStatus.SUBMITTED},
    InspectionStatus.SUBMITTED: set(),  # immutable; corrections are supplementary records
}


class PartnerPresence(enum.StrEnum):
    CONFIRMED = "confirmed"  # the partner confirmed on their own phone
    RECORDED_BY_LEAD = "recorded_by_lead"  # the lead recorded the partner as present


class CheckResult(enum.StrEnum):
    """Check-form result (检查表结果)."""

    NO_PROBLEM = "no_problem"  # 未发现问题
    IMMEDIATE = "immediate"  # 责令立即改正
    DEADLINE = "deadline"  # 责令限期改正


class PublishedCategory(enum.StrEnum):
    """The eight national categories for the published result (never 合格/不合格)."""

    NO_PROBLEM = "no_problem"  # 未发现问题
    NOT_DISCLOSED = "not_disclosed"  # 未按规定公示应当公示的信息
    FALSE_DISCLOSURE = "false_disclosure"  # 公示信息隐瞒真实情况弄虚作假
    UNREACHABLE = "unreachable"  # 通过登记的住所（经营场所）无法联系
    ORDERED_RECTIFY = "ordered_rectify"  # 发现问题已责令改正
    NON_COOPERATION = "non_cooperation"  # 不配合检查情节严重
    NO_ACTIVITY = "no_activity"  # 未发现开展本次抽查涉及的经营活动
    PENDING_FOLLOWUP = "pending_followup"  # 发现问题待后续处理


class Answer(enum.StrEnum):
    COMPLIES = "complies"  # 符合
    FAILS = "fails"  # 不符合
    NA = "na"  # 不适用


class SignerRole(enum.StrEnum):
    UNIT = "unit"  # 被检查单位随同人员
    INSPECTOR = "inspector"  # 检查人员


class Inspection(Model):
    __tablename__ = "inspection"
    __table_args__ = (
        # the year's figures of the dashboard and the public results are ranges over submitted_at
        Index("ix_inspection_submitted_at", "submitted_at"),
        # 公示时限: checked in but not submitted (a small set among a million records)
        Index(
            "ix_inspection_draft_checkin",
            "checkin_at",
            postgresql_where=text("status = 'draft'"),
            sqlite_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=new_token)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[InspectionStatus] = mapped_column(
        str_enum(InspectionStatus, "inspection_status"), default=InspectionStatus.DRAFT
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # check-in (签到): time and position, or why there is no position. ``checkin_at`` is the phone's clock when
    # 开始检查 was tapped if that is plausible, else the server's receipt time (``checkin_note`` says why);
    # a check-in recorded without network (``checkin_offline``) reaches the server later (``checkin_received_at``).
    checkin_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checkin_received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    checkin_device_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # as the phone sent it
    checkin_offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    checkin_note: Mapped[str | None] = mapped_column(String(200))  # e.g. the device time was not plausible
    checkin_lat: Mapped[float | None] = mapped_column(Float)
    checkin_lon: Mapped[float | None] = mapped_column(Float)
    checkin_accuracy: Mapped[float | None] = mapped_column(Float)  # metres
    location_note: Mapped[str | None] = mapped_column(String(200))  # e.g. 定位被拒绝
    # the second inspector: confirmed on their own phone, or recorded present by the lead
    partner_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))
    partner_presence: Mapped[PartnerPresence | None] = mapped_column(str_enum(PartnerPresence, "partner_presence"))
    partner_recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[CheckResult | None] = mapped_column(str_enum(CheckResult, "check_result"))
    category: Mapped[PublishedCategory | None] = mapped_column(str_enum(PublishedCategory, "published_category"))
    remarks: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the submitted content
    content: Mapped[dict | None] = mapped_column(JSONText)  # the canonical content that was hashed
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"), index=True)
    supersede_reason: Mapped[str | None] = mapped_column(Text)
    # 一公开: public by this date (check date + 20 working days); published_at set when it went public,
    # published_by_id empty when the system published it at the deadline (webapp.publication)
    publish_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    task: Mapped[Task] = relationship()
    partner_inspector = relationship("Inspector")
    supersedes: Mapped[Inspection | None] = relationship(remote_side="Inspection.id")
    answers: Mapped[list[ChecklistAnswer]] = relationship(back_populates="inspection", order_by="ChecklistAnswer.id")
    findings: Mapped[list[Finding]] = relationship(back_populates="inspection", order_by="Finding.seq")
    photos: Mapped[list[Photo]] = relationship(back_populates="inspection", order_by="Photo.id")
    signatures: Mapped[list[Signature]] = relationship(back_populates="inspection", order_by="Signature.id")


def superseded(where: Callable[[Any], Any] | None = None):
    """SQL: a submitted supplementary record replaces this ``Inspection`` (``where(newer)`` may narrow it, e.g.
    to supplements already public). Negate it for the record in force."""
    newer = aliased(Inspection)
    conditions = [newer.supersedes_id == Inspection.id, newer.status == InspectionStatus.SUBMITTED]
    if where is not None:
        conditions.append(where(newer))
    return select(newer.id).where(*conditions).exists()


class ChecklistAnswer(Model):
    """One checklist point answered. Joint tasks: each department's inspector answers their own points."""

    __tablename__ = "checklist_answer"
    __table_args__ = (UniqueConstraint("inspection_id", "point_id", name="uq_checklist_answer_inspection_point"),)

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("checklist_point.id"))
    answer: Mapped[Answer | None] = mapped_column(str_enum(Answer, "checklist_answer_value"))
    note: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
    point = relationship("ChecklistPoint")


class Finding(Model):
    """A problem found (发现问题), with its legal basis; photos hang off it."""

    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_inspection_point", "inspection_id", "point_id"),)

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=new_token)
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # made on the phone; a retry is one
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_point.id"))
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[created_at]

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    point = relationship("ChecklistPoint")
    photos: Mapped[list[Photo]] = relationship(back_populates="finding", order_by="Photo.id")


class Photo(Model):
    """A photo stored by content hash; metadata stripped, capture time and GPS kept here as data."""

    __tablename__ = "photo"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=new_token)
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored (stripped) image
    original_sha256: Mapped[str | None] = mapped_column(String(64))  # of the bytes received
    thumb_sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[created_at]

    inspection: Mapped[Inspection] = relationship(back_populates="photos")
    finding: Mapped[Finding | None] = relationship(back_populates="photos")


class Signature(Model):
    """A signature (or a recorded refusal to sign) bound to the hash of the record when it was signed.

    The PNG is drawn once from the strokes and kept in storage under ``png_key`` (its SHA-256); signatures made
    before that have no key until their first view draws and stores them. An inspector's signature given on
    another inspector's phone is 代签: ``proxy_by`` (who held the pen's phone) and ``proxy_reason`` say so.
    """

    __tablename__ = "signature"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=new_token)
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # made on the phone; a retry is one
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    role: Mapped[SignerRole] = mapped_column(str_enum(SignerRole, "signer_role"))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))
    signer_name: Mapped[str] = mapped_column(String(50))
    png_sha256: Mapped[str | None] = mapped_column(String(64))  # of the PNG drawn when signed
    png_key: Mapped[str | None] = mapped_column(String(64))  # storage key of the PNG served
    strokes: Mapped[list | None] = mapped_column(JSONText)
    canvas_width: Mapped[int | None] = mapped_column(Integer)
    canvas_height: Mapped[int | None] = mapped_column(Integer)
    record_hash: Mapped[str] = mapped_column(String(64))  # the draft's hash when signed
    binding_hash: Mapped[str] = mapped_column(String(64))
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # 代签: the inspector whose phone (and login) gave another inspector's signature, and why
    proxy_by_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))
    proxy_reason: Mapped[str | None] = mapped_column(Text)

    inspection: Mapped[Inspection] = relationship(back_populates="signatures")
    inspector = relationship("Inspector", foreign_keys=[inspector_id])
    proxy_by = relationship("Inspector", foreign_keys=[proxy_by_id])
