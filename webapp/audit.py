"""Append-only, hash-chained audit log.

Every state change calls :func:`record` inside the same transaction as the change, so the event and the
change commit together or not at all. Each event's ``hash`` covers its own fields and the previous
event's hash; :func:`verify` recomputes the chain, so editing or deleting a row in the database is
detected (``flask audit-verify``). On PostgreSQL appends are serialised with a transaction-scoped
advisory lock; on SQLite the database's single writer does the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import UTCDateTime, intpk, utcnow
from webapp.extensions import Model, db

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x5153_4A41  # arbitrary constant for pg_advisory_xact_lock


class AuditEvent(Model):
    __tablename__ = "audit_event"

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(60))
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (db.Index("ix_audit_event_subject", "subject_type", "subject_id"),)

    @property
    def payload(self) -> dict:
        return json.loads(self.data)


def _canonical(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _event_hash(prev_hash: str, ev: AuditEvent) -> str:
    body = _canonical(
        {
            "at": ev.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor_id": ev.actor_id,
            "actor_name": ev.actor_name,
            "action": ev.action,
            "subject_type": ev.subject_type,
            "subject_id": ev.subject_id,
            "org_id": ev.org_id,
            "reason": ev.reason,
            "data": ev.data,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record(
    actor: Any,
    action: str,
    subject: Any | tuple[str, Any],
    data: dict | None = None,
    *,
    reason: str | None = None,
    org_id: int | None = None,
) -> AuditEvent:
    """Append an event to the session (committed with the caller's transaction).

    ``actor`` is a User (or None for the system / CLI); ``subject`` a model instance or a
    ``(type, id)`` pair. ``data`` should say what changed (e.g. ``{"field": [old, new]}``).
    """
    session = db.session
    subject = getattr(subject, "_get_current_object", lambda: subject)()  # unwrap current_user
    actor = getattr(actor, "_get_current_object", lambda: actor)()
    if isinstance(subject, tuple):
        subject_type, subject_id = subject
    else:
        session.flush()  # make sure a new subject has its id
        subject_type, subject_id = type(subject).__tablename__, subject.id
    if org_id is None:
        org_id = getattr(subject, "org_id", None) if not isinstance(subject, tuple) else None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    prev = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    ev = AuditEvent(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or (actor if isinstance(actor, str) else "system"),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        org_id=org_id,
        reason=reason,
        data=_canonical(data or {}),
        prev_hash=prev or GENESIS,
    )
    ev.hash = _event_hash(ev.prev_hash, ev)
    session.add(ev)
    session.flush()
    return ev


_COLUMNS = [
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor_name,
    AuditEvent.action,
    AuditEvent.subject_type,
    AuditEvent.subject_id,
    AuditEvent.org_id,
    AuditEvent.reason,
    AuditEvent.data,
    AuditEvent.prev_hash,
    AuditEvent.hash,
]


@dataclass
class ChainProblem:
    event_id: int | None
    message: str


def iter_problems(batch: int = 5000) -> Iterator[ChainProblem]:
    """Walk the chain in id order and yield every break found."""
    prev = GENESIS
    last_id = 0
    while True:
        rows = db.session.execute(
            select(*_COLUMNS).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        for ev in rows:
            if ev.prev_hash != prev:
                yield ChainProblem(
                    ev.id, f"event {ev.id}: link to the previous event is broken (an event was deleted or inserted)"
                )
            if _event_hash(ev.prev_hash, ev) != ev.hash:
                yield ChainProblem(ev.id, f"event {ev.id}: content does not match its hash (edited)")
            prev = ev.hash
            last_id = ev.id


def verify() -> list[ChainProblem]:
    return list(iter_problems())


def diff(obj: Any, fields: list[str], new_values: dict) -> dict:
    """``{field: [old, new]}`` for fields whose value changes; used for audit data."""
    changes = {}
    for f in fields:
        if f not in new_values:
            continue
        old = getattr(obj, f)
        new = new_values[f]
        if plain(old) != plain(new):
            changes[f] = [plain(old), plain(new)]
    return changes


def plain(v: Any) -> Any:
    """A value as audit data stores it: enums as their code, dates as ISO text."""
    if hasattr(v, "value"):
        return v.value
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return v
