"""The write flow both halves of the registry share: save a unit or an inspector, change a status, reasons.

Plain functions over ``db.session``; they never commit (the view or command that called them does) and
raise :class:`RecordError` when a rule is broken. A unique key (USCC, certificate number, login account)
taken by another request between the check and the write is caught in a savepoint: ``lost_race`` turns it
into the same error the check would have given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, NoReturn

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp import audit
from webapp.auth.access import can_manage_org
from webapp.auth.models import Organisation, User
from webapp.extensions import db
from webapp.web import ServiceError

REASON_MAX = 500  # Unit.status_reason / Inspector.status_reason and the reason of an audited change


class RecordError(ServiceError):
    """A unit or inspector was refused; ``duplicate`` is the record that already holds its unique key."""

    def __init__(self, errors: Mapping[str, Any] | str, duplicate: Any = None, field: str | None = None) -> None:
        super().__init__(errors, field)
        self.duplicate = duplicate


def parse_org(user: User, raw: Any) -> Organisation | None:
    """The organisation a form names by id, if this user manages it (else None: the form says 请选择…)."""
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit():
        return None
    org = db.session.get(Organisation, int(text))
    return org if org is not None and can_manage_org(user, org.id) else None


def holder(model: Any, column: Any, value: str | None, exclude_id: int | None) -> Any:
    """The other record (of ``model``) that already holds ``value`` in a unique ``column``, or None."""
    if not value:
        return None
    stmt = select(model).where(column == value)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def reason_error(reason: str, missing: str | None = None, limit: int = REASON_MAX) -> str | None:
    """The message for a missing reason (when ``missing`` is given) or one over ``limit`` characters."""
    if not reason:
        return missing
    if len(reason) > limit:
        return _("不能超过%(n)d个字", n=limit)
    return None


def require_reason(raw: str | None, missing: str, limit: int = REASON_MAX) -> str:
    """The stripped reason of a status change, or :class:`RecordError` on the ``reason`` field."""
    reason = (raw or "").strip()
    msg = reason_error(reason, missing, limit)
    if msg:
        raise RecordError({"reason": msg})
    return reason


LostRace = Callable[[int | None], NoReturn]  # raises the error of a unique key taken meanwhile (arg: own id)
AuditView = Callable[[dict], dict]  # the changes as written to the audit log


def create(actor: User, obj: Any, values: dict, *, action: str, lost_race: LostRace, shown: AuditView | None = None):
    """Add ``obj`` (built from ``values``); writes ``action`` with every value set. Returns the changes."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
            db.session.flush()
    except IntegrityError:  # another request took the unique key between the check and the insert
        lost_race(None)
    blank = SimpleNamespace(**dict.fromkeys(values))
    changes = audit.diff(blank, list(values), values)
    changes = shown(changes) if shown else changes
    audit.record(actor, action, obj, changes)
    return changes


def update(
    actor: User,
    obj: Any,
    values: dict,
    *,
    fields: list[str],
    action: str,
    reason: str | None,
    lost_race: LostRace,
    shown: AuditView | None = None,
) -> dict:
    """Apply ``values`` of ``fields``; writes ``action`` with {field: [old, new]}. No change, no event."""
    changes = audit.diff(obj, fields, values)
    if not changes:
        return {}
    try:
        with db.session.begin_nested():
            for name in changes:
                setattr(obj, name, values[name])
            db.session.flush()
    except IntegrityError:
        db.session.refresh(obj)
        lost_race(obj.id)
    changes = shown(changes) if shown else changes
    audit.record(actor, action, obj, changes, reason=reason or None)
    return changes


def set_status(actor: User, obj: Any, new: Any, *, action: str, reason: str, keep_reason: bool = True) -> None:
    """Move a unit or inspector to status ``new`` with its reason (``keep_reason=False`` clears it). Audited."""
    old, old_reason = obj.status, obj.status_reason
    obj.status = new
    obj.status_reason = reason if keep_reason else None
    data: dict[str, Any] = {"status": [old.value, new.value]}
    if not keep_reason:
        data["status_reason"] = [old_reason, None]
    audit.record(actor, action, obj, data, reason=reason)
