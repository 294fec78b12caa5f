"""Units (检查对象名录库): writes — create, edit, status changes.

Plain functions over ``db.session``; nothing here reads the request and nothing commits (the view does).
Validation of typed input goes through :func:`webapp.registry.units.columns.clean_unit` (the one rule set
shared with bulk import); this module adds what needs the database: visibility by organisation, USCC
uniqueness, the audit trail. A broken rule raises :class:`webapp.registry.services.RecordError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from flask_babel import gettext as _

from webapp.auth.models import User
from webapp.registry import services as registry_services
from webapp.registry.models import Unit, UnitStatus
from webapp.registry.services import RecordError, reason_error
from webapp.registry.units.columns import UNIT_FIELDS, clean_unit


def _holder_of(uscc: str | None, exclude_id: int | None) -> Unit | None:
    return registry_services.holder(Unit, Unit.uscc, uscc, exclude_id)


def _duplicate_message(holder: Unit) -> str:
    return _("该统一社会信用代码已属于：%(name)s", name=holder.name)


def _validate(user: User, org_raw: Any, raw: Mapping[str, Any], exclude_id: int | None, reason: str = "") -> dict:
    """The typed values (``org_id`` included), or RecordError with every problem found."""
    values, errors = clean_unit(dict(raw))
    org = registry_services.parse_org(user, org_raw)
    org_id = org.id if org is not None else None
    if org_id is None:
        errors["org_id"] = _("请选择所属机构")
    duplicate = None
    if "uscc" not in errors:
        duplicate = _holder_of(values.get("uscc"), exclude_id)
        if duplicate is not None:
            errors["uscc"] = _duplicate_message(duplicate)
    msg = reason_error(reason)
    if msg:
        errors["reason"] = msg
    if errors:
        raise RecordError(errors, duplicate)
    values["org_id"] = org_id
    return values


def _lost_race(uscc: str | None) -> Any:
    def lost(exclude_id: int | None) -> NoReturn:
        holder = _holder_of(uscc, exclude_id)
        raise RecordError({"uscc": _duplicate_message(holder) if holder else _("该统一社会信用代码已被占用")}, holder)

    return lost


def create_unit(actor: User, org_raw: Any, raw: Mapping[str, Any]) -> Unit:
    """Validate and add a unit; writes ``unit.created`` with every value set."""
    values = _validate(actor, org_raw, raw, exclude_id=None)
    unit = Unit(**values)
    registry_services.create(actor, unit, values, action="unit.created", lost_race=_lost_race(values.get("uscc")))
    return unit


def update_unit(actor: User, unit: Unit, org_raw: Any, raw: Mapping[str, Any], reason: str | None = None) -> dict:
    """Validate and apply an edit; writes ``unit.updated`` with {field: [old, new]}. Returns the changes."""
    reason = (reason or "").strip()
    values = _validate(actor, org_raw, raw, exclude_id=unit.id, reason=reason)
    return registry_services.update(
        actor,
        unit,
        values,
        fields=[*UNIT_FIELDS, "org_id"],
        action="unit.updated",
        reason=reason,
        lost_race=_lost_race(values.get("uscc")),
    )


def change_status(actor: User, unit: Unit, target: str, reason: str | None) -> None:
    """Close a unit, mark it 僵尸单位 or reopen it. A reason is required; history is kept."""
    errors: dict[str, str] = {}
    try:
        new: UnitStatus | None = UnitStatus(target)
    except ValueError:
        errors["status"] = _("请选择新的状态")
        new = None
    text = (reason or "").strip()
    msg = reason_error(text, _("请填写状态变更原因"))
    if msg:
        errors["reason"] = msg
    if new is not None and new == unit.status:
        errors["status"] = _("该单位已是此状态")
    if errors or new is None:
        raise RecordError(errors)
    registry_services.set_status(actor, unit, new, action="unit.status_changed", reason=text)
