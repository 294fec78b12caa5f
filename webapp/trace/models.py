"""The trace of one inspection (扫码亮证): its unguessable public token, the scans, one rating, the reports.

Nothing here identifies who scanned, rated or reported: a scan keeps its time and a visitor hash that changes
every day (an HMAC of the address, never the address), used only to count a reload once.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import UTCDateTime, created_at, intpk
from webapp.extensions import Model
from webapp.inspections.models import Inspection


def new_token() -> str:
    """The code's token: 192 random bits, URL-safe (32 characters)."""
    return secrets.token_urlsafe(24)


class InspectionTrace(Model):
    """The public code of one inspection (the first record of a task; supplements share it)."""

    __tablename__ = "inspection_trace"

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    scan_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_scan_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    inspection: Mapped[Inspection] = relationship()
    rating: Mapped[TraceRating | None] = relationship(back_populates="trace", uselist=False)


class TraceScan(Model):
    """One counted scan of the code (a reload by the same visitor within minutes is not counted again)."""

    __tablename__ = "trace_scan"
    __table_args__ = (Index("ix_trace_scan_trace_at", "trace_id", "at"),)

    id: Mapped[intpk]
    trace_id: Mapped[int] = mapped_column(ForeignKey("inspection_trace.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    visitor: Mapped[str] = mapped_column(String(32))  # HMAC(secret, day | address | agent): no address kept


class TraceRating(Model):
    """The unit's confirmation of the visit and its 满意度 (1–5), anonymous; one per inspection."""

    __tablename__ = "trace_rating"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[intpk]
    trace_id: Mapped[int] = mapped_column(ForeignKey("inspection_trace.id"), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    visit_confirmed: Mapped[bool] = mapped_column(Boolean)  # the inspectors did come (False: they say not)
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    trace: Mapped[InspectionTrace] = relationship(back_populates="rating")


class TraceReport(Model):
    """A report of misconduct (举报) made on the code's page, for the supervisors; anonymous unless a contact is
    given."""

    __tablename__ = "trace_report"

    id: Mapped[intpk]
    trace_id: Mapped[int] = mapped_column(ForeignKey("inspection_trace.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[created_at]

    trace: Mapped[InspectionTrace] = relationship()
