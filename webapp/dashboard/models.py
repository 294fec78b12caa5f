"""Background exports (.xlsx) with a progress bar: one row per requested export, polled from the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import JSONText, UTCDateTime, created_at, intpk, new_public_id, str40
from webapp.extensions import Model


class ExportJob(Model):
    """An export being written in the background; the file is kept in storage under ``storage_key``."""

    __tablename__ = "export_job"

    id: Mapped[intpk]
    public_id: Mapped[str40] = mapped_column(unique=True, default=lambda: new_public_id("E"))
    kind: Mapped[str] = mapped_column(String(20))  # tasks | results | rectifications
    params: Mapped[dict | None] = mapped_column(JSONText)  # the period: {"year": 2026, "month": 11}
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending running failed done
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str | None] = mapped_column(String(100))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[created_at]
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # written by its worker while running
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DashboardFigures(Model):
    """The dashboard's figures of one scope, computed by the worker and read by every app server
    (webapp.dashboard.cache): ``key`` such as ``year:supervisor:12``, ``value`` the figures as JSON."""

    __tablename__ = "dashboard_figures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)  # None: asked for, not computed yet
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # how long the computation took
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the last refresh asked of the worker
