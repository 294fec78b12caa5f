"""The sync ledger (one receipt per queued change a device sent) and the devices' reports of their queues."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.db import JSONText, UTCDateTime, created_at, intpk
from webapp.extensions import Model

CLIENT_ID_LENGTH = 36


class SyncLedger(Model):
    """One change a device queued, applied once: the answer the server gave, replayed for the same id.

    Rows are never deleted: they are the device's receipts. ``status`` is None only when the process stopped
    between committing the change and storing its answer (a replay then answers 200 without a body).
    """

    __tablename__ = "sync_ledger"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH))
    endpoint: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict] = mapped_column(JSONText)  # {"form": [[name, value]…], "files": [[field, sha256]…]}
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict | None] = mapped_column(JSONText)
    queued: Mapped[bool] = mapped_column(Boolean, default=False)  # sent later than made (X-Offline-Queued)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # a supervisor's outbox import
    created_at: Mapped[created_at]
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("user_id", "client_id", name="uq_sync_ledger_user_id_client_id"),)


class DeviceReport(Model):
    """What a device last said about its outbox (newest report per user and device wins)."""

    __tablename__ = "device_report"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    pending: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    oldest_pending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    storage_usage: Mapped[int | None] = mapped_column(BigInteger)
    storage_quota: Mapped[int | None] = mapped_column(BigInteger)
    persisted: Mapped[bool | None] = mapped_column(Boolean)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("user_id", "device_id", name="uq_device_report_user_id_device_id"),)
