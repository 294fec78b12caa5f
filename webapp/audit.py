"""Append-only, hash-chained audit log, anchored outside the database.

Every state change calls :func:`record` inside the same transaction as the change, so the event and the
change commit together or not at all. Each event's ``hash`` covers its own fields and the previous
event's hash, so editing or deleting a row in the database breaks the chain. On PostgreSQL appends are
serialised with a transaction-scoped advisory lock; on SQLite the database's single writer does the same.

A chain alone cannot show that its last events were deleted, or that someone who can write the database
edited event N and recomputed the hashes of N…end. :func:`anchor` (``flask audit-anchor``, daily on the job
queue) therefore writes the chain head — last event id, its hash, the number of events, the time — outside the
database: to the storage backend as an append-only object ``audit-anchors/<date>/<id>-<hash>.json`` (created,
never replaced) and to ``audit_anchor``, which the public site lists as 审计日志校验值 (page and Atom feed), where
anyone can keep a copy. :func:`verify` (``flask audit-verify``) recomputes the chain and checks it against every
anchor in storage and in the table: an anchored event that is gone, whose hash changed, or with a different
number of events up to it is reported, as is an anchor whose two copies disagree or that lost one of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp import calendar, storage
from webapp.db import UTCDateTime, intpk, utcnow
from webapp.extensions import Model, db

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x5153_4A41  # arbitrary constant for pg_advisory_xact_lock
ANCHOR_PREFIX = "audit-anchors/"


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


class AuditAnchor(Model):
    """One published chain head (审计日志校验值); its twin is the storage object ``storage_key``."""

    __tablename__ = "audit_anchor"

    id: Mapped[intpk]
    day: Mapped[dt.date] = mapped_column(Date, index=True)  # the local (Shanghai) date it was written
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_event_id: Mapped[int] = mapped_column(Integer)  # 0 for an empty log
    head_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)


def _lock_appends() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


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
    _lock_appends()
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
    kind: str = "chain"  # chain: the hashes | anchor: the chain against an anchor | anchor-copy: an anchor's copies
    anchor_day: dt.date | None = None


# ------------------------------------------------------------------------------------------ anchors


@dataclass(frozen=True)
class Anchor:
    """An anchor as written (the storage object's JSON, or a row of ``audit_anchor``)."""

    key: str
    day: dt.date
    at: str
    last_event_id: int
    head_hash: str
    count: int

    def document(self) -> bytes:
        return (
            _canonical(
                {
                    "version": 1,
                    "date": self.day.isoformat(),
                    "at": self.at,
                    "last_event_id": self.last_event_id,
                    "head_hash": self.head_hash,
                    "count": self.count,
                }
            )
            + "\n"
        ).encode("utf-8")

    @classmethod
    def from_row(cls, row: AuditAnchor) -> Anchor:
        return cls(
            key=row.storage_key,
            day=row.day,
            at=_iso(row.at),
            last_event_id=row.last_event_id,
            head_hash=row.head_hash,
            count=row.event_count,
        )

    @classmethod
    def from_document(cls, key: str, raw: bytes) -> Anchor:
        doc = json.loads(raw)
        return cls(
            key=key,
            day=dt.date.fromisoformat(doc["date"]),
            at=str(doc["at"]),
            last_event_id=int(doc["last_event_id"]),
            head_hash=str(doc["head_hash"]),
            count=int(doc["count"]),
        )


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def anchor() -> AuditAnchor:
    """Write the chain head outside the database: a create-only object in the storage backend and a row of
    ``audit_anchor`` (the public list). Run daily by the job queue and by ``flask audit-anchor``; the caller
    commits. Anchoring the same head again on the same day returns the existing anchor.
    """
    _lock_appends()  # no append in flight: the head and the count below are one consistent state
    head = db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    last_id, head_hash = (head.id, head.hash) if head else (0, GENESIS)
    count = db.session.execute(select(func.count(AuditEvent.id)).where(AuditEvent.id <= last_id)).scalar_one()
    day = calendar.today()
    key = f"{ANCHOR_PREFIX}{day.isoformat()}/{last_id:010d}-{head_hash[:16]}.json"
    existing = db.session.execute(select(AuditAnchor).where(AuditAnchor.storage_key == key)).scalar_one_or_none()
    if existing is not None:
        return existing
    at = utcnow()
    doc = Anchor(key=key, day=day, at=_iso(at), last_event_id=last_id, head_hash=head_hash, count=count)
    try:
        storage.put_object(key, doc.document(), create_only=True)
    except FileExistsError:  # written by a run whose database row was lost (crashed before its commit)
        stored = Anchor.from_document(key, storage.get_object(key))
        if (stored.last_event_id, stored.head_hash, stored.count) != (last_id, head_hash, count):
            raise
        at = dt.datetime.fromisoformat(stored.at)
    row = AuditAnchor(day=day, at=at, last_event_id=last_id, head_hash=head_hash, event_count=count, storage_key=key)
    db.session.add(row)
    db.session.flush()
    return row


def stored_anchors() -> tuple[list[Anchor], list[ChainProblem]]:
    """Every anchor, from storage and from the table, and the problems between the two copies.

    The chain is checked against both copies (an anchor found in only one is still evidence).
    """
    problems: list[ChainProblem] = []
    in_storage: dict[str, Anchor] = {}
    try:
        keys = storage.list_objects(ANCHOR_PREFIX)
    except Exception as exc:  # an unreachable store must fail the check, not pass it
        return [], [ChainProblem(None, f"anchors could not be read from storage: {exc}", "anchor-copy")]
    for key in keys:
        try:
            in_storage[key] = Anchor.from_document(key, storage.get_object(key))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(ChainProblem(None, f"anchor {key} in storage is unreadable: {exc}", "anchor-copy"))
    rows = db.session.execute(select(AuditAnchor).order_by(AuditAnchor.id)).scalars()
    in_db = {row.storage_key: Anchor.from_row(row) for row in rows}
    for key, a in in_db.items():
        s = in_storage.get(key)
        if s is None:
            problems.append(
                ChainProblem(None, f"anchor of {a.day} ({key}) is missing from storage", "anchor-copy", a.day)
            )
        elif (s.day, s.last_event_id, s.head_hash, s.count) != (a.day, a.last_event_id, a.head_hash, a.count):
            problems.append(
                ChainProblem(
                    None, f"anchor of {a.day} ({key}) in storage differs from the database", "anchor-copy", a.day
                )
            )
    for key, s in in_storage.items():
        if key not in in_db:
            problems.append(
                ChainProblem(
                    None, f"anchor of {s.day} ({key}) in storage is not listed in the database", "anchor-copy", s.day
                )
            )
    return list({*in_storage.values(), *in_db.values()}), problems


def _anchor_problem(a: Anchor, event_id: int | None, message: str) -> ChainProblem:
    return ChainProblem(event_id, message, "anchor", a.day)


def iter_problems(batch: int = 5000, anchors: list[Anchor] | None = None) -> Iterator[ChainProblem]:
    """Walk the chain in id order and yield every break found, and every disagreement with ``anchors``."""
    pending = sorted((a for a in anchors or [] if a.last_event_id > 0), key=lambda a: (a.last_event_id, a.key))
    pending.reverse()  # pop() from the end: smallest anchored id first
    prev = GENESIS
    last_id = 0
    count = 0
    while True:
        rows = db.session.execute(
            select(*_COLUMNS).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            count += 1
            if ev.prev_hash != prev:
                yield ChainProblem(
                    ev.id, f"event {ev.id}: link to the previous event is broken (an event was deleted or inserted)"
                )
            if _event_hash(ev.prev_hash, ev) != ev.hash:
                yield ChainProblem(ev.id, f"event {ev.id}: content does not match its hash (edited)")
            while pending and pending[-1].last_event_id <= ev.id:
                a = pending.pop()
                if a.last_event_id < ev.id:
                    yield _missing(a)
                    continue
                if ev.hash != a.head_hash:
                    yield _anchor_problem(
                        a,
                        ev.id,
                        f"event {ev.id} does not match the anchor of {a.day}: "
                        "history was rewritten after it was anchored",
                    )
                if count != a.count:
                    yield _anchor_problem(
                        a,
                        ev.id,
                        f"{count} events up to event {ev.id}, the anchor of {a.day} recorded {a.count}: "
                        "events were deleted or inserted after it was anchored",
                    )
            prev = ev.hash
            last_id = ev.id
    for a in reversed(pending):
        yield _missing(a)


def _missing(a: Anchor) -> ChainProblem:
    return _anchor_problem(
        a,
        a.last_event_id,
        f"event {a.last_event_id} is missing: it was anchored on {a.day} as event {a.count} of the log "
        "(events were deleted after it was anchored)",
    )


def verify_chain_only() -> list[ChainProblem]:
    """The chain's own consistency, without the anchors (what a rewrite with recomputed hashes passes)."""
    return list(iter_problems())


def verify() -> list[ChainProblem]:
    """The chain, checked against every anchor (``flask audit-verify``, the audit-log page's 校验审计链)."""
    anchors, problems = stored_anchors()
    return list(iter_problems(anchors=anchors)) + problems


def anchors_page(page: int = 1, per_page: int = 50) -> tuple[list[AuditAnchor], bool]:
    """Anchors newest first (the public list): one page and whether there is a next one."""
    rows = list(
        db.session.execute(
            select(AuditAnchor).order_by(AuditAnchor.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
        ).scalars()
    )
    return rows[:per_page], len(rows) > per_page


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
