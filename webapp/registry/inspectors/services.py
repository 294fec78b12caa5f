"""Inspectors (执法检查人员名录库): writes — create, edit, freeze, unavailability periods, conflicts (回避).

Plain functions over ``db.session``; nothing here reads the request and nothing commits (the view does).
Field rules are :func:`webapp.registry.inspectors.columns.clean_inspector` (shared with bulk import); a broken
rule raises :class:`webapp.registry.services.RecordError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NoReturn

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit
from webapp.auth.access import can_manage_org
from webapp.auth.models import User
from webapp.extensions import db
from webapp.registry import services as registry_services
from webapp.registry.inspectors.columns import clean_inspector, parse_date
from webapp.registry.inspectors.queries import usernames
from webapp.registry.models import Inspector, InspectorConflict, InspectorStatus, InspectorUnavailability, Unit
from webapp.registry.services import RecordError, reason_error, require_reason

REASON_MAX = 200  # InspectorUnavailability.reason / InspectorConflict.reason are String(200)
EDIT_FIELDS = (
    "name",
    "post",
    "rank",
    "specialties",
    "cert_no",
    "cert_valid_until",
    "can_lead",
    "draw_weight",
    "phone",
    "user_id",
)


# ------------------------------------------------------------------------------------- create / update


def _cert_holder(cert_no: str | None, exclude_id: int | None) -> Inspector | None:
    return registry_services.holder(Inspector, Inspector.cert_no, cert_no, exclude_id)


def _cert_message(holder: Inspector) -> str:
    return _("该执法证件号已登记为：%(name)s（%(org)s）", name=holder.name, org=holder.org.name)


def _validate(user: User, org_raw: Any, raw: Mapping[str, Any], exclude_id: int | None, reason: str = "") -> dict:
    """The typed values (``org_id`` included), or RecordError with every problem found."""
    org = registry_services.parse_org(user, org_raw)
    values, errors = clean_inspector(dict(raw), org_dept=org.dept if org else "", check_link=False)
    if "user_id" in errors:  # the form's field is "username"
        errors["username"] = errors.pop("user_id")
    if org is None:
        errors["org_id"] = _("请选择所属机构")
    duplicate = None
    if "cert_no" not in errors:
        duplicate = _cert_holder(values.get("cert_no"), exclude_id)
        if duplicate is not None:
            errors["cert_no"] = _cert_message(duplicate)
    account = db.session.get(User, values["user_id"]) if values.get("user_id") is not None else None
    if account is not None and "username" not in errors:
        linked = db.session.execute(
            select(Inspector).where(Inspector.user_id == account.id, Inspector.id != (exclude_id or 0))
        ).scalar_one_or_none()
        if not can_manage_org(user, account.org_id):
            errors["username"] = _("账号“%(u)s”不属于您管理的机构", u=account.username)
        elif linked is not None:
            errors["username"] = _("账号“%(u)s”已关联执法检查人员：%(name)s", u=account.username, name=linked.name)
    msg = reason_error(reason)
    if msg:
        errors["reason"] = msg
    if errors:
        raise RecordError(errors, duplicate)
    values["org_id"] = org.id if org else None
    return values


def _audit_changes(changes: dict) -> dict:
    """The login account as usernames (readable in every audit view), not user ids."""
    if "user_id" not in changes:
        return changes
    out = dict(changes)
    old, new = out.pop("user_id")
    names = usernames(old, new)
    out["username"] = [names.get(old) if old else None, names.get(new) if new else None]
    return out


def _lost_race(cert_no: str | None) -> Any:
    def lost(exclude_id: int | None) -> NoReturn:
        holder = _cert_holder(cert_no, exclude_id)
        if holder is not None:
            raise RecordError({"cert_no": _cert_message(holder)}, holder)
        raise RecordError({"username": _("该登录账号已关联其他执法检查人员")})

    return lost


def create_inspector(actor: User, org_raw: Any, raw: Mapping[str, Any]) -> Inspector:
    """Validate and add an inspector; writes ``inspector.created`` with every value set."""
    values = _validate(actor, org_raw, raw, exclude_id=None)
    insp = Inspector(**values)
    registry_services.create(
        actor,
        insp,
        values,
        action="inspector.created",
        lost_race=_lost_race(values.get("cert_no")),
        shown=_audit_changes,
    )
    return insp


def update_inspector(
    actor: User, insp: Inspector, org_raw: Any, raw: Mapping[str, Any], reason: str | None = None
) -> dict:
    """Validate and apply an edit; writes ``inspector.updated`` with {field: [old, new]}. Returns the changes."""
    reason = (reason or "").strip()
    values = _validate(actor, org_raw, raw, exclude_id=insp.id, reason=reason)
    return registry_services.update(
        actor,
        insp,
        values,
        fields=[*EDIT_FIELDS, "org_id"],
        action="inspector.updated",
        reason=reason,
        lost_race=_lost_race(values.get("cert_no")),
        shown=_audit_changes,
    )


# ------------------------------------------------------------------------------------ freeze / unfreeze


def freeze(actor: User, insp: Inspector, reason: str | None) -> None:
    """Take an inspector out of every draw pool until unfrozen. A reason is required; audited."""
    text = require_reason(reason, _("请填写冻结原因"))
    if insp.status == InspectorStatus.FROZEN:
        raise RecordError({"reason": _("该人员已处于冻结状态")})
    registry_services.set_status(actor, insp, InspectorStatus.FROZEN, action="inspector.frozen", reason=text)


def unfreeze(actor: User, insp: Inspector, reason: str | None) -> None:
    """Put a frozen inspector back (their certificate still decides whether they are drawn). Audited."""
    text = require_reason(reason, _("请填写解冻原因"))
    if insp.status != InspectorStatus.FROZEN:
        raise RecordError({"reason": _("该人员未被冻结")})
    registry_services.set_status(
        actor, insp, InspectorStatus.ACTIVE, action="inspector.unfrozen", reason=text, keep_reason=False
    )


# ----------------------------------------------------------------------------------------- unavailability


def add_unavailability(
    actor: User, insp: Inspector, start_raw: Any, end_raw: Any, reason: str | None
) -> InspectorUnavailability:
    """Record a period (inclusive dates) the inspector cannot be drawn: leave, secondment, training …"""
    errors: dict[str, str] = {}
    days: dict[str, dt.date] = {}
    for name, value in (("start_date", start_raw), ("end_date", end_raw)):
        text = str(value or "").strip()
        day = parse_date(text)
        if not text:
            errors[name] = _("请填写开始日期") if name == "start_date" else _("请填写结束日期")
        elif day is None:
            errors[name] = _("日期格式错误，请写作 2027-06-30、2027/6/30 或 2027年6月30日")
        elif not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
            errors[name] = _("日期不在合理范围内，请核对")
        else:
            days[name] = day
    start, end = days.get("start_date"), days.get("end_date")
    if start and end and start > end:
        errors["end_date"] = _("结束日期不能早于开始日期")
    reason = (reason or "").strip()
    msg = reason_error(reason, _("请填写不可抽取的原因（如休假、借调、培训）"), REASON_MAX)
    if msg:
        errors["reason"] = msg
    if errors or start is None or end is None:
        raise RecordError(errors)
    period = InspectorUnavailability(inspector_id=insp.id, start_date=start, end_date=end, reason=reason)
    db.session.add(period)
    db.session.flush()
    audit.record(
        actor,
        "inspector.unavailable_added",
        insp,
        {"period_id": period.id, "start_date": start.isoformat(), "end_date": end.isoformat()},
        reason=reason,
    )
    return period


def cancel_unavailability(actor: User, insp: Inspector, period: InspectorUnavailability, reason: str | None) -> None:
    """Cancel a period (never deleted: ``cancelled`` is set and the reason audited)."""
    text = require_reason(reason, _("请填写取消原因"))
    if period.cancelled:
        raise RecordError({"reason": _("该期间已取消")})
    period.cancelled = True
    audit.record(
        actor,
        "inspector.unavailable_cancelled",
        insp,
        {
            "period_id": period.id,
            "start_date": period.start_date.isoformat(),
            "end_date": period.end_date.isoformat(),
            "cancelled": [False, True],
        },
        reason=text,
    )


# ---------------------------------------------------------------------------------------- conflicts (回避)


def _visible_unit(user: User, public_id: str) -> Unit | None:
    unit = db.session.execute(select(Unit).where(Unit.public_id == public_id)).scalar_one_or_none()
    if unit is None or not can_manage_org(user, unit.org_id):
        return None
    return unit


def declare_conflict(actor: User, insp: Inspector, unit_public_id: str | None, reason: str | None) -> InspectorConflict:
    """Declare a conflict of interest with a unit: the inspector is never drawn for it (回避)."""
    errors: dict[str, str] = {}
    unit = _visible_unit(actor, (unit_public_id or "").strip()) if unit_public_id else None
    if unit is None:
        errors["unit"] = _("请从列表中选择单位")
    reason = (reason or "").strip()
    msg = reason_error(reason, _("请填写利害关系（如亲属任职、曾在该单位工作）"), REASON_MAX)
    if msg:
        errors["reason"] = msg
    if errors or unit is None:
        raise RecordError(errors)
    conflict = db.session.execute(
        select(InspectorConflict).where(InspectorConflict.inspector_id == insp.id, InspectorConflict.unit_id == unit.id)
    ).scalar_one_or_none()
    if conflict is not None and conflict.active:
        raise RecordError({"unit": _("已登记与“%(name)s”的利害关系", name=unit.name)})
    if conflict is None:  # one row per pair (unique): a withdrawn conflict is declared again on the same row
        conflict = InspectorConflict(inspector_id=insp.id, unit_id=unit.id, reason=reason, active=True)
        db.session.add(conflict)
    else:
        conflict.active = True
        conflict.reason = reason
    db.session.flush()
    audit.record(
        actor,
        "inspector.conflict_declared",
        insp,
        {"conflict_id": conflict.id, "unit": unit.name, "unit_id": unit.public_id},
        reason=reason,
    )
    return conflict


def withdraw_conflict(actor: User, insp: Inspector, conflict: InspectorConflict, reason: str | None) -> None:
    """Withdraw a declared conflict (``active=False``; never deleted). A reason is required; audited."""
    text = require_reason(reason, _("请填写撤销原因"))
    if not conflict.active:
        raise RecordError({"reason": _("该利害关系已撤销")})
    conflict.active = False
    audit.record(
        actor,
        "inspector.conflict_withdrawn",
        insp,
        {
            "conflict_id": conflict.id,
            "unit": conflict.unit.name,
            "unit_id": conflict.unit.public_id,
            "active": [True, False],
        },
        reason=text,
    )
