"""Admin writes: organisations (create, edit, deactivate) and the working-day calendar (overrides, a year's
holidays entered from the State Council's notice or by hand, a year confirmed as "no holidays known yet").

User rules live in :mod:`webapp.auth.services`. Plain functions over ``db.session``; they never touch
``request`` and never commit (the view or command that called them commits). Rules are reported as
:class:`Invalid` with Chinese messages keyed by field. Every change writes an audit event.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp import audit, calendar_notice
from webapp import calendar as cal
from webapp.admin.models import OrgCheckinSettings
from webapp.admin.queries import org_blockers, subtree_ids
from webapp.auth.labels import ORG_KIND
from webapp.auth.models import DEPARTMENTS, Organisation, OrgKind, User
from webapp.auth.services import toggle_active
from webapp.extensions import db
from webapp.web import ServiceError

ORG_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
ORG_FIELDS = ("name", "short_name", "kind", "dept", "parent_id", "region")


class Invalid(ServiceError):
    """Input breaks an admin rule. ``errors`` maps a field name (or ``"_form"``) to a Chinese message."""


# ------------------------------------------------------------------------------------- organisations


def _parent_error(kind: OrgKind, parent_kind: OrgKind | None, has_parent: bool) -> str | None:
    if kind == OrgKind.DEPARTMENT:
        return None
    if kind == OrgKind.ZONGDUI and has_parent:
        return str(_l("总队是最高层级，不能有上级机构"))
    if kind == OrgKind.ZHIDUI and parent_kind not in (OrgKind.ZONGDUI, None):
        return str(_l("支队的上级机构只能是总队（或不设上级）"))
    if kind == OrgKind.DADUI and parent_kind != OrgKind.ZHIDUI:
        return str(_l("大队必须隶属于一个支队"))
    return None


def org_errors(values: dict[str, Any], org: Organisation | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values.get("name"):
        errors["name"] = str(_l("请填写机构名称"))
    elif len(values["name"]) > 200:
        errors["name"] = str(_l("不能超过%(n)d个字", n=200))
    if values.get("short_name") and len(values["short_name"]) > 40:
        errors["short_name"] = str(_l("不能超过%(n)d个字", n=40))
    if values.get("region") and len(values["region"]) > 100:
        errors["region"] = str(_l("不能超过%(n)d个字", n=100))
    if values.get("dept") not in DEPARTMENTS:
        errors["dept"] = str(_l("请选择所属部门"))
    kind = values.get("kind")
    if not isinstance(kind, OrgKind):
        errors["kind"] = str(_l("请选择机构类型"))
        return errors
    parent = db.session.get(Organisation, values["parent_id"]) if values.get("parent_id") else None
    if values.get("parent_id") and parent is None:
        errors["parent_id"] = str(_l("上级机构不存在"))
        return errors
    if org is not None and parent is not None and (parent.id == org.id or parent.id in subtree_ids(org.id)):
        errors["parent_id"] = str(_l("上级机构不能是本机构或其下级机构"))
        return errors
    if parent is not None and not parent.active and (org is None or parent.id != org.parent_id):
        errors["parent_id"] = str(_l("上级机构已停用"))
        return errors
    msg = _parent_error(kind, parent.kind if parent else None, parent is not None)
    if msg:
        errors["parent_id"] = msg
    if org is not None and kind != org.kind:
        for child in org.children:
            if child.kind != OrgKind.DEPARTMENT and _parent_error(child.kind, kind, True):
                errors["kind"] = str(
                    _l("下级机构“%(c)s”是%(k)s，本机构不能改为此类型", c=child.name, k=str(ORG_KIND[child.kind]))
                )
                break
    return errors


def _clean_org_values(raw: dict[str, Any]) -> dict[str, Any]:
    kind = raw.get("kind")
    try:
        kind = OrgKind(kind) if kind else None
    except ValueError:
        kind = None
    parent_id = raw.get("parent_id")
    return {
        "name": (raw.get("name") or "").strip(),
        "short_name": (raw.get("short_name") or "").strip() or None,
        "kind": kind,
        "dept": (raw.get("dept") or "").strip(),
        "parent_id": int(parent_id) if parent_id not in (None, "", 0, "0") else None,
        "region": (raw.get("region") or "").strip() or None,
    }


# the check-in radius (签到范围) in metres; empty: the parent's, else webapp.inspections.geo.DEFAULT_RADIUS_M
RADIUS_MIN, RADIUS_MAX = 50, 50000


def _clean_radius(raw: Any) -> tuple[int | None, str | None]:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None, None
    try:
        value = int(text)
    except ValueError:
        return None, str(_l("签到范围须为整数（米）"))
    if not RADIUS_MIN <= value <= RADIUS_MAX:
        return None, str(_l("签到范围须在%(a)d至%(b)d米之间", a=RADIUS_MIN, b=RADIUS_MAX))
    return value, None


def own_checkin_radius(org_id: int) -> int | None:
    """The radius set on the organisation itself (None: it takes its parent's or the default)."""
    return db.session.execute(
        select(OrgCheckinSettings.radius_m).where(OrgCheckinSettings.org_id == org_id)
    ).scalar_one_or_none()


def _set_radius(org_id: int, radius: int | None) -> None:
    row = db.session.execute(select(OrgCheckinSettings).where(OrgCheckinSettings.org_id == org_id)).scalar_one_or_none()
    if radius is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(OrgCheckinSettings(org_id=org_id, radius_m=radius))
    else:
        row.radius_m = radius


def create_org(actor: User | None, code: str, raw: dict[str, Any]) -> Organisation:
    code = (code or "").strip()
    values = _clean_org_values(raw)
    errors = org_errors(values)
    radius, radius_error = _clean_radius(raw.get("checkin_radius"))
    if radius_error:
        errors["checkin_radius"] = radius_error
    if not ORG_CODE_RE.match(code):
        errors["code"] = str(_l("机构代码只能包含字母、数字、短横线和下划线（2–40位）"))
    elif db.session.execute(select(Organisation.id).where(func.lower(Organisation.code) == code.lower())).first():
        errors["code"] = str(_l("机构代码已存在"))
    if errors:
        raise Invalid(errors)
    org = Organisation(code=code, active=True, **values)
    db.session.add(org)
    db.session.flush()
    _set_radius(org.id, radius)
    audit.record(
        actor,
        "org.created",
        org,
        {"code": code, **{k: audit.plain(v) for k, v in values.items()}, "checkin_radius": radius},
        org_id=org.id,
    )
    return org


def update_org(actor: User | None, org: Organisation, raw: dict[str, Any], reason: str | None = None) -> dict:
    values = _clean_org_values(raw)
    errors = org_errors(values, org)
    radius, radius_error = _clean_radius(raw.get("checkin_radius"))
    if radius_error:
        errors["checkin_radius"] = radius_error
    if errors:
        raise Invalid(errors)
    changes = audit.diff(org, list(ORG_FIELDS), values)
    old_radius = own_checkin_radius(org.id)
    if radius != old_radius:
        changes["checkin_radius"] = [old_radius, radius]
    if not changes:
        raise Invalid({"_form": str(_l("没有任何修改"))})
    for f in ORG_FIELDS:
        setattr(org, f, values[f])
    _set_radius(org.id, radius)
    audit.record(actor, "org.updated", org, changes, reason=(reason or "").strip() or None, org_id=org.id)
    return changes


def set_org_active(actor: User | None, org: Organisation, active: bool, reason: str | None) -> None:
    """Deactivate (never delete) or reactivate an organisation, with a reason."""

    def refuse() -> str | None:
        if not active:
            blockers = org_blockers(org)
            msgs = []
            if blockers["children"]:
                msgs.append(str(_l("还有%(n)d个在用的下级机构", n=blockers["children"])))
            if blockers["users"]:
                msgs.append(str(_l("还有%(n)d个在用的用户账号", n=blockers["users"])))
            if msgs:
                return str(_l("不能停用：该机构%(what)s，请先停用或调整它们", what="，".join(msgs)))
        elif org.parent is not None and not org.parent.active:
            return str(_l("上级机构已停用，请先启用上级机构"))
        return None

    toggle_active(
        actor, org, active, reason, kind="org", already=str(_l("该机构已是此状态")), org_id=org.id, refuse=refuse
    )


# ------------------------------------------------------------------------------------------ calendar


def set_override(
    actor: User | None, day: dt.date | None, is_workday: bool | None, note: str | None
) -> cal.CalendarOverride:
    """Record that ``day`` is (not) a working day; an existing override for the day is changed.

    Overrides are never deleted: to return to the official calendar, set the day to what it says.
    Audited ``calendar.override_set`` with ``{field: [old, new]}``.
    """
    note = (note or "").strip() or None
    errors: dict[str, str] = {}
    if day is None:
        errors["day"] = str(_l("请选择日期"))
    if is_workday is None:
        errors["is_workday"] = str(_l("请选择工作日或休息日"))
    if note and len(note) > 100:
        errors["note"] = str(_l("不能超过%(n)d个字", n=100))
    if errors or day is None or is_workday is None:
        raise Invalid(errors)
    row = _override_row(day)
    if row is not None and row.is_workday == is_workday and row.note == note:
        raise Invalid({"_form": str(_l("与现有设置相同，无需修改"))})
    return _put_override(actor, day, is_workday, note, row)


def _override_row(day: dt.date) -> cal.CalendarOverride | None:
    return db.session.execute(select(cal.CalendarOverride).where(cal.CalendarOverride.day == day)).scalar_one_or_none()


def _put_override(
    actor: User | None, day: dt.date, is_workday: bool, note: str | None, row: cal.CalendarOverride | None
) -> cal.CalendarOverride:
    """Create or change the override of ``day`` (the caller checked that it changes); audited."""
    if row is None:
        row = cal.CalendarOverride(day=day, is_workday=is_workday, note=note)
        db.session.add(row)
        data = {"day": day.isoformat(), "is_workday": [None, is_workday], "note": [None, note]}
    else:
        data = {"day": day.isoformat(), "is_workday": [row.is_workday, is_workday], "note": [row.note, note]}
        row.is_workday = is_workday
        row.note = note
    db.session.flush()
    audit.record(actor, "calendar.override_set", ("calendar_override", day.isoformat()), data)
    return row


def _year_subject(year: int) -> tuple[str, str]:
    return ("calendar_year", str(year))


def enter_year(actor: User | None, parsed: calendar_notice.ParsedYear) -> int:
    """Save a year's holidays and 调休 working days read from the notice (or typed ranges) after review: each
    day becomes an override (audited ``calendar.override_set`` where it changes), and the year is recorded as
    entered (audited ``calendar.year_entered``), which makes it known. Returns how many days changed.

    The text is parsed again by the caller on saving; what was shown for review is never trusted as state.
    """
    if parsed.errors or parsed.year is None:
        raise Invalid(parsed.errors or {"year": str(_l("请填写年份"))})
    if not parsed.days:
        raise Invalid({"_form": str(_l("没有找到任何放假或上班日期"))})
    year = parsed.year
    changed = 0
    for d in parsed.days:
        row = _override_row(d.day)
        if row is not None and row.is_workday == d.is_workday and row.note == d.note:
            continue
        _put_override(actor, d.day, d.is_workday, d.note, row)
        changed += 1
    record = cal.year_record(year)
    old_status = record.status if record is not None else None
    if record is None:
        record = cal.CalendarYear(year=year, status=cal.YEAR_ENTERED, source=parsed.source)
        db.session.add(record)
    else:
        record.status, record.source, record.reason = cal.YEAR_ENTERED, parsed.source, None
    db.session.flush()
    audit.record(
        actor,
        "calendar.year_entered",
        _year_subject(year),
        {
            "year": year,
            "status": [old_status, cal.YEAR_ENTERED],
            "source": parsed.source,
            "holidays": [d.isoformat() for d in parsed.holidays],
            "workdays": [d.isoformat() for d in parsed.workdays],
            "changed_days": changed,
        },
    )
    return changed


def confirm_year(actor: User | None, year: object, reason: str | None) -> cal.CalendarYear:
    """Record that ``year`` has no holidays known yet, with a reason: its weekdays count as working days and
    its periods may be frozen. Audited ``calendar.year_confirmed``. Refused for a year the library knows or
    whose holidays were entered, and for one already confirmed."""
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    y = calendar_notice.clean_year(year)
    if y is None:
        errors["year"] = str(_l("请填写%(a)d–%(b)d之间的年份", a=calendar_notice.MIN_YEAR, b=calendar_notice.MAX_YEAR))
    if not reason:
        errors["reason"] = str(_l("请说明原因（例如：国务院办公厅尚未公布该年的放假安排）"))
    elif len(reason) > 500:
        errors["reason"] = str(_l("不能超过%(n)d个字", n=500))
    if y is not None:
        record = cal.year_record(y)
        if cal.library_knows(y):
            errors["year"] = str(_l("系统已内置%(y)d年的节假日安排，无需确认", y=y))
        elif record is not None and record.status == cal.YEAR_ENTERED:
            errors["year"] = str(_l("%(y)d年的节假日安排已录入，无需确认", y=y))
        elif record is not None:
            errors["year"] = str(_l("%(y)d年已确认为暂无节假日安排（原因：%(r)s）", y=y, r=record.reason or ""))
    if errors or y is None:
        raise Invalid(errors)
    record = cal.CalendarYear(year=y, status=cal.YEAR_CONFIRMED, reason=reason)
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor,
        "calendar.year_confirmed",
        _year_subject(y),
        {"year": y, "status": [None, cal.YEAR_CONFIRMED]},
        reason=reason,
    )
    return record
