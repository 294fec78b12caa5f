"""Inspectors (执法检查人员名录库): validation, services and draw-pool eligibility.

``clean_inspector(raw, org_dept=...)`` is the one validation of an inspector's fields, used by the edit
form and by bulk import alike (the importer matches existing inspectors by ``cert_no``). It takes text
values keyed by the field names of :data:`INSPECTOR_COLUMNS` and returns typed values keyed by
``Inspector`` attributes (the same names), plus per-field errors in Chinese. The one difference: the
``user_id`` column (登录账号) holds a username as text, and an id (the linked user of role inspector) in
the values. Column fields must be ``Inspector`` attributes: the importer reads and updates them by name.

Only people holding a valid 行政执法资格 certificate are in the draw pool; an expired certificate takes
a person out of it without any status change (see :func:`pool_exclusion_reasons`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select

from webapp import audit
from webapp.audit import AuditEvent
from webapp.auth.models import Organisation, Role, User
from webapp.auth.permissions import can_manage_org, visible_org_ids
from webapp.calendar import month_bounds
from webapp.extensions import db
from webapp.registry.labels import INSPECTOR_STATUS, POST_DEFAULT_WEIGHT, POSTS
from webapp.registry.models import Inspector, InspectorConflict, InspectorStatus, InspectorUnavailability, Unit
from webapp.registry.units.columns import Column
from webapp.registry.validation import phone_error

# Order = column order of the import template and the export.
INSPECTOR_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("人员姓名", "执法人员姓名"), required=True),
    Column("post", "岗位", ("岗位类别", "人员类别", "岗位性质"), required=True),
    Column("rank", "职务/职级", ("职务", "职级", "警衔", "职称")),
    Column("specialties", "业务专长", ("专长", "擅长领域", "业务特长")),
    Column("cert_no", "执法证件号", ("执法证号", "行政执法证件号", "执法证件编号", "证件号码", "执法证编号")),
    Column("cert_valid_until", "证件有效期至", ("有效期至", "证件有效期", "执法证有效期", "有效期")),
    Column("can_lead", "可任主办", ("是否可任主办", "主办", "可担任主办")),
    Column("draw_weight", "抽取权重", ("权重",)),
    Column("phone", "联系电话", ("电话", "手机", "手机号码", "联系方式")),
    Column("user_id", "登录账号", ("账号", "用户名", "系统账号")),
)
INSPECTOR_FIELDS = tuple(c.field for c in INSPECTOR_COLUMNS)

# Posts a department's staff can hold; a department not listed accepts every known post.
POSTS_BY_DEPT: dict[str, tuple[str, ...]] = {
    "fire": ("专职消防监督员", "兼职消防监督员", "消防文员"),
    "market": ("市场监管执法人员",),
    "civil_defence": ("人防执法人员",),
}
DEFAULT_WEIGHT = 100
MIN_WEIGHT, MAX_WEIGHT = 1, 1000

INSPECTOR_NOTES: dict[str, Any] = {
    "name": _l("必填，不超过50字"),
    "post": _l("必填：专职消防监督员、兼职消防监督员、消防文员（消防救援机构）；市场监管执法人员；人防执法人员"),
    "rank": _l("不超过40字"),
    "specialties": _l("不超过200字，多项用顿号分隔，如 建筑防火、消防设施"),
    "cert_no": _l(
        "行政执法证件号，不超过40位；持有效证件才能进入抽取人员库。已登记的人员按此号匹配并更新，请把该列设为“文本”格式"
    ),
    "cert_valid_until": _l("日期，如 2027-06-30、2027/6/30 或 2027年6月30日；过期后自动移出抽取人员库"),
    "can_lead": _l("是 / 否；空白为否"),
    "draw_weight": _l("1～1000的整数；空白时按岗位：专职消防监督员150、兼职消防监督员100、消防文员50，其他100"),
    "phone": _l("手机11位或座机，如 0379-67713119"),
    "user_id": _l("可不填；填写时须为已有的、未关联其他人员的执法检查人员账号"),
}
INSPECTOR_EXAMPLE: tuple[str, ...] = (
    "张某某",
    "专职消防监督员",
    "四级主办",
    "建筑防火、消防设施",
    "示例-0000001",
    "2027-06-30",
    "是",
    "150",
    "13800138000",
    "",
)

_TRUE = ("是", "y", "yes", "true", "1", "√", "on", "可", "可以")
_FALSE = ("否", "n", "no", "false", "0", "", "off", "不可", "×")
_DATE_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_CERT_RE = re.compile(r"^[0-9A-Za-z\-_/()（）\u4e00-\u9fff]+$")
_SPECIALTY_SPLIT = re.compile(r"[、,，;；/\s]+")


def parse_date(value: str | None) -> dt.date | None:
    """A date as people and spreadsheets write it; ``None`` when it cannot be read.

    Accepts 2027-06-30, 2027/6/30, 2027.6.30, 2027年6月30日, 20270630, an ISO date-time
    (``2027-06-30 00:00``) and an Excel serial day number (46568) from a cell formatted as a number.
    """
    v = unicodedata.normalize("NFKC", value or "").strip()
    if not v:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?$", v):
        v = v[:10]
    if re.match(r"^\d{5}(\.0+)?$", v):  # Excel serial: 1 = 1900-01-01 (with Excel's 1900 leap-day bug)
        try:
            return _EXCEL_EPOCH + dt.timedelta(days=int(v.split(".")[0]))
        except OverflowError:
            return None
    for pattern in _DATE_RES:
        m = pattern.match(v)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def allowed_posts(org_dept: str) -> tuple[str, ...]:
    return POSTS_BY_DEPT.get(org_dept, POSTS)


def default_weight(post: str | None) -> int:
    return POST_DEFAULT_WEIGHT.get(post or "", DEFAULT_WEIGHT)


def _text(raw: dict[str, str | None], field: str) -> str:
    v = raw.get(field)
    return unicodedata.normalize("NFKC", str(v)).strip() if v is not None else ""


def clean_inspector(
    raw: dict[str, str | None], *, org_dept: str, check_link: bool = True
) -> tuple[dict, dict[str, str]]:
    """Validate text input for an inspector of an organisation of department ``org_dept``.

    Returns ``(values, errors)``: ``values`` keyed by ``Inspector`` attributes (``name``, ``post``,
    ``rank``, ``specialties``, ``cert_no``, ``cert_valid_until``, ``can_lead``, ``draw_weight``,
    ``phone``, ``user_id``); ``errors`` keyed by the field names of :data:`INSPECTOR_COLUMNS`, messages
    in Chinese. ``raw["user_id"]`` is a username. With ``check_link`` (bulk import, where a row is
    matched by its certificate number) an account already linked to a person with another certificate
    number is an error; the edit form checks that against the inspector being edited instead.
    """
    values: dict = {}
    errors: dict[str, str] = {}

    def text(field: str, max_len: int) -> str:
        v = _text(raw, field)
        if len(v) > max_len:
            errors[field] = str(_l("不能超过%(n)d个字", n=max_len))
        values[field] = v or None
        return v

    if not text("name", 50) and "name" not in errors:
        errors["name"] = str(_l("请填写姓名"))

    post = _text(raw, "post")
    posts = allowed_posts(org_dept)
    if not post:
        errors["post"] = str(_l("请选择岗位"))
    elif post not in posts:
        errors["post"] = str(_l("岗位应为：%(posts)s", posts="、".join(posts)))
    values["post"] = post or None

    text("rank", 40)

    specialties = "、".join(s for s in _SPECIALTY_SPLIT.split(_text(raw, "specialties")) if s)
    if len(specialties) > 200:
        errors["specialties"] = str(_l("不能超过%(n)d个字", n=200))
    values["specialties"] = specialties or None

    cert_no = "".join(_text(raw, "cert_no").split()).upper()
    if len(cert_no) > 40:
        errors["cert_no"] = str(_l("执法证件号不能超过40位"))
    elif cert_no and not _CERT_RE.match(cert_no):
        errors["cert_no"] = str(_l("执法证件号只能包含数字、字母、汉字和“-”"))
    values["cert_no"] = cert_no or None

    until_text = _text(raw, "cert_valid_until")
    until = parse_date(until_text)
    if until_text and until is None:
        errors["cert_valid_until"] = str(_l("日期格式错误，请写作 2027-06-30、2027/6/30 或 2027年6月30日"))
    elif until is not None and not (dt.date(2000, 1, 1) <= until <= dt.date(2100, 12, 31)):
        errors["cert_valid_until"] = str(_l("证件有效期不在合理范围内，请核对"))
    elif until is not None and not cert_no and "cert_no" not in errors:
        errors["cert_no"] = str(_l("填写了证件有效期，请同时填写执法证件号"))
    values["cert_valid_until"] = until

    lead = _text(raw, "can_lead").lower()
    if lead in _TRUE:
        values["can_lead"] = True
    elif lead in _FALSE:
        values["can_lead"] = False
    else:
        errors["can_lead"] = str(_l("请填写“是”或“否”"))
        values["can_lead"] = False

    weight = _text(raw, "draw_weight")
    if not weight:
        values["draw_weight"] = default_weight(post)
    elif re.match(r"^\d+(\.0+)?$", weight) and MIN_WEIGHT <= int(weight.split(".")[0]) <= MAX_WEIGHT:
        values["draw_weight"] = int(weight.split(".")[0])
    else:
        errors["draw_weight"] = str(_l("抽取权重应为%(lo)d～%(hi)d的整数", lo=MIN_WEIGHT, hi=MAX_WEIGHT))
        values["draw_weight"] = default_weight(post)

    phone = _text(raw, "phone").replace(" ", "")
    msg = phone_error(phone)
    if msg:
        errors["phone"] = msg
    values["phone"] = phone or None

    username = _text(raw, "user_id")
    values["user_id"] = None
    if username:
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            errors["user_id"] = str(_l("没有登录账号“%(u)s”", u=username))
        elif user.role != Role.INSPECTOR:
            errors["user_id"] = str(_l("账号“%(u)s”不是执法检查人员账号", u=username))
        else:
            values["user_id"] = user.id
            linked = (
                db.session.execute(select(Inspector).where(Inspector.user_id == user.id)).scalar_one_or_none()
                if check_link
                else None
            )
            if linked is not None and (not cert_no or linked.cert_no != cert_no):
                errors["user_id"] = str(_l("账号“%(u)s”已关联执法检查人员：%(name)s", u=username, name=linked.name))
    return values, errors


# =========================================================================================== services
# Plain functions over ``db.session``; nothing below reads the request.

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_QUERY_LEN = 100
REASON_MAX = 200  # InspectorUnavailability.reason / InspectorConflict.reason are String(200)
STATUS_REASON_MAX = 500  # Inspector.status_reason
EXPIRY_WARNING_DAYS = 30
UNIT_OPTIONS_LIMIT = 8
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

# Chinese labels of the inspector's fields (form labels, detail page, history).
FIELD_LABELS: dict[str, Any] = {
    "name": _l("姓名"),
    "post": _l("岗位"),
    "rank": _l("职务/职级"),
    "specialties": _l("业务专长"),
    "cert_no": _l("执法证件号"),
    "cert_valid_until": _l("证件有效期至"),
    "can_lead": _l("可任主办"),
    "draw_weight": _l("抽取权重"),
    "phone": _l("联系电话"),
    "username": _l("登录账号"),
    "user_id": _l("登录账号"),
    "org_id": _l("所属机构"),
    "status": _l("状态"),
    "status_reason": _l("状态原因"),
    "start_date": _l("开始日期"),
    "end_date": _l("结束日期"),
    "period_id": _l("不可抽取期间编号"),
    "conflict_id": _l("利害关系编号"),
    "unit": _l("单位"),
    "unit_id": _l("单位编号"),
    "cancelled": _l("已取消"),
    "active": _l("有效"),
}

# Audit action codes of this module → Chinese (the detail page's history).
ACTION_LABELS: dict[str, Any] = {
    "inspector.created": _l("新增执法检查人员"),
    "inspector.updated": _l("修改执法检查人员"),
    "inspector.frozen": _l("冻结执法检查人员"),
    "inspector.unfrozen": _l("解冻执法检查人员"),
    "inspector.unavailable_added": _l("登记不可抽取期间"),
    "inspector.unavailable_cancelled": _l("取消不可抽取期间"),
    "inspector.conflict_declared": _l("登记利害关系（回避）"),
    "inspector.conflict_withdrawn": _l("撤销利害关系（回避）"),
}

# Why an inspector is not in a draw pool (codes of pool_exclusion_reasons / inspector_pool).
POOL_REASONS: dict[str, Any] = {
    "cert_missing": _l("无行政执法证件（未登记证件号或有效期）"),
    "cert_expired": _l("执法证件已过期"),
    "cert_expires_in_period": _l("执法证件将在本期内过期"),
    "frozen": _l("已冻结"),
    "unavailable_all_period": _l("整个期间均不可抽取（请假、借调等）"),
    "wrong_dept": _l("不属于本次检查的部门"),
    "org_inactive": _l("所属机构已撤销"),
}

# Pool-state filter of the list (computed for the current month).
POOL_FILTERS: dict[str, Any] = {
    "in": _l("在库可抽"),
    "cert": _l("证件过期/无证"),
    "frozen": _l("冻结"),
    "unavailable": _l("本月不可用"),
}
STATUS_FILTERS = ("", *(s.value for s in InspectorStatus))


def local_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def this_month(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    day = today or local_today()
    return month_bounds(day.year, day.month)


# ------------------------------------------------------------------------------------ pool eligibility


def _covered_days(periods: Iterable[tuple[dt.date, dt.date]], start: dt.date, end: dt.date) -> set[dt.date]:
    """Days of [start, end] inside any of ``periods`` (inclusive date ranges)."""
    days: set[dt.date] = set()
    for p_start, p_end in periods:
        lo, hi = max(p_start, start), min(p_end, end)
        for n in range((hi - lo).days + 1):
            days.add(lo + dt.timedelta(days=n))
    return days


def _reasons(
    cert_no: str | None,
    valid_until: dt.date | None,
    status: InspectorStatus,
    unavailable: set[dt.date],
    start: dt.date,
    end: dt.date,
) -> list[str]:
    reasons: list[str] = []
    if not cert_no or valid_until is None:
        reasons.append("cert_missing")
    elif valid_until < start:
        reasons.append("cert_expired")
    elif valid_until < end:
        reasons.append("cert_expires_in_period")
    if status == InspectorStatus.FROZEN:
        reasons.append("frozen")
    if len(unavailable) == (end - start).days + 1:
        reasons.append("unavailable_all_period")
    return reasons


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValueError(f"start {start} is after end {end}")


def unavailable_dates(inspector: Inspector, start: dt.date, end: dt.date) -> list[str]:
    """ISO dates of [start, end] on which the inspector is unavailable (cancelled periods ignored)."""
    _check_period(start, end)
    periods = [(p.start_date, p.end_date) for p in inspector.unavailability if not p.cancelled]
    return sorted(d.isoformat() for d in _covered_days(periods, start, end))


def pool_exclusion_reasons(inspector: Inspector, start: dt.date, end: dt.date) -> list[str]:
    """Why ``inspector`` cannot be in a draw pool for [start, end]; empty when they can.

    Codes: ``cert_missing``, ``cert_expired`` (valid until before ``start``), ``cert_expires_in_period``
    (valid until before ``end``), ``frozen``, ``unavailable_all_period``. Partial unavailability is not an
    exclusion: see :func:`unavailable_dates`. Nothing here changes the inspector: an expired certificate
    takes them out of the pool by itself.
    """
    _check_period(start, end)
    periods = [(p.start_date, p.end_date) for p in inspector.unavailability if not p.cancelled]
    covered = _covered_days(periods, start, end)
    return _reasons(inspector.cert_no, inspector.cert_valid_until, inspector.status, covered, start, end)


def inspector_pool(org_ids: set[int], depts: list[str], start: dt.date, end: dt.date) -> tuple[list[dict], list[dict]]:
    """The inspectors of organisations ``org_ids`` who may be drawn for [start, end], and those who may not.

    In the pool: ``{"id", "name", "org_id", "dept", "post", "can_lead", "weight", "conflicts",
    "unavailable"}`` with ``conflicts`` the public ids of units with an active declared conflict and
    ``unavailable`` the ISO dates of [start, end] the inspector cannot go. Excluded:
    ``{"inspector_id", "name", "org_id", "dept", "reasons"}``. ``depts`` limits the pool to those
    departments (empty: any); others are excluded as ``wrong_dept``. Both lists are in public-id order.
    Three queries whatever the number of inspectors.
    """
    _check_period(start, end)
    ids = sorted(set(org_ids))
    if not ids:
        return [], []
    in_orgs = Inspector.org_id.in_(ids)
    rows = db.session.execute(
        select(
            Inspector.id,
            Inspector.public_id,
            Inspector.name,
            Inspector.org_id,
            Inspector.post,
            Inspector.can_lead,
            Inspector.draw_weight,
            Inspector.cert_no,
            Inspector.cert_valid_until,
            Inspector.status,
            Organisation.dept,
            Organisation.active,
        )
        .join(Organisation, Organisation.id == Inspector.org_id)
        .where(in_orgs)
        .order_by(Inspector.public_id)
    ).all()
    periods: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for iid, p_start, p_end in db.session.execute(
        select(
            InspectorUnavailability.inspector_id, InspectorUnavailability.start_date, InspectorUnavailability.end_date
        )
        .join(Inspector, Inspector.id == InspectorUnavailability.inspector_id)
        .where(
            in_orgs,
            InspectorUnavailability.cancelled.is_(False),
            InspectorUnavailability.start_date <= end,
            InspectorUnavailability.end_date >= start,
        )
    ):
        periods.setdefault(iid, []).append((p_start, p_end))
    conflicts: dict[int, set[str]] = {}
    for iid, unit_pid in db.session.execute(
        select(InspectorConflict.inspector_id, Unit.public_id)
        .join(Unit, Unit.id == InspectorConflict.unit_id)
        .join(Inspector, Inspector.id == InspectorConflict.inspector_id)
        .where(in_orgs, InspectorConflict.active.is_(True))
    ):
        conflicts.setdefault(iid, set()).add(unit_pid)

    wanted = set(depts or ())
    pool: list[dict] = []
    excluded: list[dict] = []
    for r in rows:
        covered = _covered_days(periods.get(r.id, ()), start, end)
        reasons = _reasons(r.cert_no, r.cert_valid_until, r.status, covered, start, end)
        if wanted and r.dept not in wanted:
            reasons.append("wrong_dept")
        if not r.active:
            reasons.append("org_inactive")
        if reasons:
            excluded.append(
                {"inspector_id": r.public_id, "name": r.name, "org_id": r.org_id, "dept": r.dept, "reasons": reasons}
            )
            continue
        pool.append(
            {
                "id": r.public_id,
                "name": r.name,
                "org_id": r.org_id,
                "dept": r.dept,
                "post": r.post,
                "can_lead": bool(r.can_lead),
                "weight": int(r.draw_weight),
                "conflicts": sorted(conflicts.get(r.id, ())),
                "unavailable": sorted(d.isoformat() for d in covered),
            }
        )
    return pool, excluded


# ----------------------------------------------------------------------------------- list and search


@dataclass
class InspectorFilters:
    """What the list shows. Parsed leniently from query arguments: unknown values fall back to 'any'."""

    q: str = ""
    org: int | None = None
    post: str = ""
    status: str = ""  # "" (all) | "active" | "frozen"
    pool: str = ""  # "" | one of POOL_FILTERS

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InspectorFilters:
        org_raw = (args.get("org") or "").strip()
        post = (args.get("post") or "").strip()
        status = (args.get("status") or "").strip()
        pool = (args.get("pool") or "").strip()
        return cls(
            q=" ".join((args.get("q") or "").split())[:MAX_QUERY_LEN],
            org=int(org_raw) if org_raw.isdigit() else None,
            post=post if post in POSTS else "",
            status=status if status in STATUS_FILTERS else "",
            pool=pool if pool in POOL_FILTERS else "",
        )

    def to_args(self) -> dict[str, str]:
        out = {name: getattr(self, name) for name in ("q", "post", "status", "pool") if getattr(self, name)}
        if self.org is not None:
            out["org"] = str(self.org)
        return out

    @property
    def count(self) -> int:
        """Number of filters set besides the search text (the "筛选（n）" summary)."""
        return sum(1 for name in ("post", "status", "pool") if getattr(self, name)) + (self.org is not None)


@dataclass
class InspectorRow:
    inspector: Inspector
    cert_state: str  # "valid" | "expiring" (within 30 days) | "expired" | "missing"
    unavailable_this_month: bool


@dataclass
class InspectorPage:
    rows: list[InspectorRow]
    next_after: int | None
    count: int


def visible_orgs(user: Any) -> list[Organisation]:
    """Organisations whose inspectors the user manages (admin: every active one), in code order."""
    ids = visible_org_ids(user)
    stmt = select(Organisation).order_by(Organisation.code)
    stmt = stmt.where(Organisation.active.is_(True)) if ids is None else stmt.where(Organisation.id.in_(sorted(ids)))
    return list(db.session.execute(stmt).scalars())


def _scoped(user: Any, stmt: Select) -> Select:
    ids = visible_org_ids(user)
    return stmt if ids is None else stmt.where(Inspector.org_id.in_(sorted(ids)))


def _search_condition(q: str) -> ColumnElement[bool]:
    """Every word must appear in the name or the certificate number (case-insensitive, partial)."""
    terms = []
    for word in q.split():
        terms.append(
            or_(
                Inspector.name.icontains(word, autoescape=True),
                Inspector.cert_no.icontains(word.upper(), autoescape=True),
            )
        )
    return and_(*terms)


def _overlapping(start: dt.date, end: dt.date) -> Select:
    return select(InspectorUnavailability.inspector_id).where(
        InspectorUnavailability.cancelled.is_(False),
        InspectorUnavailability.start_date <= end,
        InspectorUnavailability.end_date >= start,
    )


def _unavailable_all_month_ids(user: Any, start: dt.date, end: dt.date) -> set[int]:
    """Inspectors (of the user's organisations) whose leave covers every day of [start, end]: one query."""
    stmt = _scoped(
        user,
        select(
            InspectorUnavailability.inspector_id, InspectorUnavailability.start_date, InspectorUnavailability.end_date
        )
        .join(Inspector, Inspector.id == InspectorUnavailability.inspector_id)
        .where(
            InspectorUnavailability.cancelled.is_(False),
            InspectorUnavailability.start_date <= end,
            InspectorUnavailability.end_date >= start,
        ),
    )
    periods: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for iid, p_start, p_end in db.session.execute(stmt):
        periods.setdefault(iid, []).append((p_start, p_end))
    days = (end - start).days + 1
    return {iid for iid, ps in periods.items() if len(_covered_days(ps, start, end)) == days}


def _filtered(user: Any, f: InspectorFilters, today: dt.date) -> Select:
    stmt = _scoped(user, select(Inspector))
    if f.org is not None:
        stmt = stmt.where(Inspector.org_id == f.org)
    if f.q:
        stmt = stmt.where(_search_condition(f.q))
    if f.post:
        stmt = stmt.where(Inspector.post == f.post)
    if f.status:
        stmt = stmt.where(Inspector.status == InspectorStatus(f.status))
    first, last = this_month(today)
    if f.pool == "in":
        away = _unavailable_all_month_ids(user, first, last)
        stmt = stmt.where(
            Inspector.status == InspectorStatus.ACTIVE,
            Inspector.cert_no.is_not(None),
            Inspector.cert_valid_until >= last,
        )
        if away:
            stmt = stmt.where(Inspector.id.not_in(sorted(away)))
    elif f.pool == "cert":
        stmt = stmt.where(
            or_(Inspector.cert_no.is_(None), Inspector.cert_valid_until.is_(None), Inspector.cert_valid_until < last)
        )
    elif f.pool == "frozen":
        stmt = stmt.where(Inspector.status == InspectorStatus.FROZEN)
    elif f.pool == "unavailable":
        stmt = stmt.where(Inspector.id.in_(_overlapping(first, last)))
    return stmt


def cert_state(inspector: Inspector, today: dt.date | None = None) -> str:
    """ "missing", "expired", "expiring" (within 30 days) or "valid"."""
    day = today or local_today()
    if not inspector.cert_no or inspector.cert_valid_until is None:
        return "missing"
    if inspector.cert_valid_until < day:
        return "expired"
    if inspector.cert_valid_until <= day + dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return "expiring"
    return "valid"


def list_inspectors(
    user: Any, f: InspectorFilters, after: int | None = None, page_size: int = 50, today: dt.date | None = None
) -> InspectorPage:
    """One page of matching inspectors, newest first, keyset-paged on the id; a constant number of queries."""
    today = today or local_today()
    stmt = _filtered(user, f, today)
    page_stmt = stmt.options(selectinload(Inspector.org)).order_by(Inspector.id.desc()).limit(page_size + 1)
    if after is not None:
        page_stmt = page_stmt.where(Inspector.id < after)
    found = list(db.session.execute(page_stmt).scalars())
    more = len(found) > page_size
    found = found[:page_size]
    count = db.session.execute(
        select(func.count()).select_from(stmt.with_only_columns(Inspector.id).order_by(None).subquery())
    ).scalar_one()
    first, last = this_month(today)
    away: set[int] = set()
    if found:
        away = set(
            db.session.execute(
                _overlapping(first, last).where(InspectorUnavailability.inspector_id.in_([i.id for i in found]))
            ).scalars()
        )
    rows = [InspectorRow(i, cert_state(i, today), i.id in away) for i in found]
    return InspectorPage(rows=rows, next_after=found[-1].id if more and found else None, count=count)


def get_inspector(user: Any, public_id: str) -> Inspector | None:
    """The inspector if they belong to the user's organisation subtree, else None (→ 404)."""
    insp = db.session.execute(select(Inspector).where(Inspector.public_id == public_id)).scalar_one_or_none()
    if insp is None or not can_manage_org(user, insp.org_id):
        return None
    return insp


def posts_for(orgs: Iterable[Organisation]) -> list[str]:
    """The posts people of these organisations can hold, in the order of labels.POSTS."""
    allowed: set[str] = set()
    for org in orgs:
        allowed |= set(allowed_posts(org.dept))
    return [p for p in POSTS if p in allowed] or list(POSTS)


@dataclass
class PoolState:
    start: dt.date
    end: dt.date
    reasons: list[str]
    unavailable: list[str]  # ISO dates

    @property
    def in_pool(self) -> bool:
        return not self.reasons


def month_pool_state(inspector: Inspector, today: dt.date | None = None) -> PoolState:
    """Whether the inspector can be drawn this month (calendar month of ``today``), and why not."""
    first, last = this_month(today)
    return PoolState(
        first,
        last,
        pool_exclusion_reasons(inspector, first, last),
        unavailable_dates(inspector, first, last),
    )


# ------------------------------------------------------------------------------------- create / update


@dataclass
class SaveResult:
    inspector: Inspector | None = None
    errors: dict[str, str] = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    duplicate: Inspector | None = None  # who already holds the certificate number

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_org(user: Any, raw: Any) -> Organisation | None:
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit():
        return None
    org = db.session.get(Organisation, int(text))
    if org is None or not can_manage_org(user, org.id):
        return None
    return org


def _cert_holder(cert_no: str | None, exclude_id: int | None) -> Inspector | None:
    if not cert_no:
        return None
    stmt = select(Inspector).where(Inspector.cert_no == cert_no)
    if exclude_id is not None:
        stmt = stmt.where(Inspector.id != exclude_id)
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def _cert_message(holder: Inspector) -> str:
    return _("该执法证件号已登记为：%(name)s（%(org)s）", name=holder.name, org=holder.org.name)


def _validate(user: Any, org_raw: Any, raw: Mapping[str, Any], exclude_id: int | None) -> SaveResult:
    org = _parse_org(user, org_raw)
    values, errors = clean_inspector(dict(raw), org_dept=org.dept if org else "", check_link=False)
    if "user_id" in errors:  # the form's field is "username"
        errors["username"] = errors.pop("user_id")
    result = SaveResult(errors=errors)
    if org is None:
        errors["org_id"] = _("请选择所属机构")
    if "cert_no" not in errors:
        holder = _cert_holder(values.get("cert_no"), exclude_id)
        if holder is not None:
            errors["cert_no"] = _cert_message(holder)
            result.duplicate = holder
    if values.get("user_id") is not None and "username" not in errors:
        account = db.session.get(User, values["user_id"])
        linked = db.session.execute(
            select(Inspector).where(Inspector.user_id == account.id, Inspector.id != (exclude_id or 0))
        ).scalar_one_or_none()
        if not can_manage_org(user, account.org_id):
            errors["username"] = _("账号“%(u)s”不属于您管理的机构", u=account.username)
        elif linked is not None:
            errors["username"] = _("账号“%(u)s”已关联执法检查人员：%(name)s", u=account.username, name=linked.name)
    values["org_id"] = org.id if org else None
    result.changes = values
    return result


def _usernames(*user_ids: int | None) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _audit_changes(changes: dict) -> dict:
    """The login account as usernames (readable in every audit view), not user ids."""
    if "user_id" not in changes:
        return changes
    out = dict(changes)
    old, new = out.pop("user_id")
    names = _usernames(old, new)
    out["username"] = [names.get(old) if old else None, names.get(new) if new else None]
    return out


def create_inspector(actor: Any, org_raw: Any, raw: Mapping[str, Any]) -> SaveResult:
    """Validate and add an inspector; writes ``inspector.created`` with every value set. Commits on success."""
    result = _validate(actor, org_raw, raw, exclude_id=None)
    if not result.ok:
        return result
    values = result.changes
    insp = Inspector(**values)
    try:
        with db.session.begin_nested():
            db.session.add(insp)
            db.session.flush()
    except IntegrityError:  # another request took the certificate number or the account meanwhile
        return _lost_race(result, values, None)
    blank = SimpleNamespace(**dict.fromkeys(values))
    result.changes = _audit_changes(audit.diff(blank, list(values), values))
    audit.record(actor, "inspector.created", insp, result.changes)
    db.session.commit()
    result.inspector = insp
    return result


def update_inspector(
    actor: Any, insp: Inspector, org_raw: Any, raw: Mapping[str, Any], reason: str | None = None
) -> SaveResult:
    """Validate and apply an edit; writes ``inspector.updated`` with {field: [old, new]}. No change, no event."""
    result = _validate(actor, org_raw, raw, exclude_id=insp.id)
    reason = (reason or "").strip()
    if len(reason) > STATUS_REASON_MAX:
        result.errors["reason"] = _("不能超过%(n)d个字", n=STATUS_REASON_MAX)
    if not result.ok:
        return result
    values = result.changes
    changes = audit.diff(insp, [*EDIT_FIELDS, "org_id"], values)
    result.inspector = insp
    result.changes = changes
    if not changes:
        return result
    try:
        with db.session.begin_nested():
            for name in changes:
                setattr(insp, name, values[name])
            db.session.flush()
    except IntegrityError:
        db.session.refresh(insp)
        return _lost_race(result, values, insp.id)
    result.changes = _audit_changes(changes)
    audit.record(actor, "inspector.updated", insp, result.changes, reason=reason or None)
    db.session.commit()
    return result


def _lost_race(result: SaveResult, values: dict, exclude_id: int | None) -> SaveResult:
    result.inspector = None
    holder = _cert_holder(values.get("cert_no"), exclude_id)
    if holder is not None:
        result.duplicate = holder
        result.errors["cert_no"] = _cert_message(holder)
    else:
        result.errors["username"] = _("该登录账号已关联其他执法检查人员")
    return result


# ------------------------------------------------------------------------------------ freeze / unfreeze


def _reason_error(reason: str, missing: str, limit: int) -> str | None:
    if not reason:
        return missing
    if len(reason) > limit:
        return _("不能超过%(n)d个字", n=limit)
    return None


def freeze(actor: Any, insp: Inspector, reason: str | None) -> dict[str, str]:
    """Take an inspector out of every draw pool until unfrozen. A reason is required; audited."""
    reason = (reason or "").strip()
    msg = _reason_error(reason, _("请填写冻结原因"), STATUS_REASON_MAX)
    if msg:
        return {"reason": msg}
    if insp.status == InspectorStatus.FROZEN:
        return {"reason": _("该人员已处于冻结状态")}
    insp.status = InspectorStatus.FROZEN
    insp.status_reason = reason
    audit.record(actor, "inspector.frozen", insp, {"status": ["active", "frozen"]}, reason=reason)
    db.session.commit()
    return {}


def unfreeze(actor: Any, insp: Inspector, reason: str | None) -> dict[str, str]:
    """Put a frozen inspector back (their certificate still decides whether they are drawn). Audited."""
    reason = (reason or "").strip()
    msg = _reason_error(reason, _("请填写解冻原因"), STATUS_REASON_MAX)
    if msg:
        return {"reason": msg}
    if insp.status != InspectorStatus.FROZEN:
        return {"reason": _("该人员未被冻结")}
    old_reason = insp.status_reason
    insp.status = InspectorStatus.ACTIVE
    insp.status_reason = None
    audit.record(
        actor,
        "inspector.unfrozen",
        insp,
        {"status": ["frozen", "active"], "status_reason": [old_reason, None]},
        reason=reason,
    )
    db.session.commit()
    return {}


# ----------------------------------------------------------------------------------------- unavailability


def add_unavailability(
    actor: Any, insp: Inspector, start_raw: Any, end_raw: Any, reason: str | None
) -> tuple[InspectorUnavailability | None, dict[str, str]]:
    """Record a period (inclusive dates) the inspector cannot be drawn: leave, secondment, training …"""
    errors: dict[str, str] = {}
    start, end = None, None
    for name, value in (("start_date", start_raw), ("end_date", end_raw)):
        text = str(value or "").strip()
        day = parse_date(text)
        if not text:
            errors[name] = _("请填写开始日期") if name == "start_date" else _("请填写结束日期")
        elif day is None:
            errors[name] = _("日期格式错误，请写作 2027-06-30、2027/6/30 或 2027年6月30日")
        elif not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
            errors[name] = _("日期不在合理范围内，请核对")
        elif name == "start_date":
            start = day
        else:
            end = day
    if start and end and start > end:
        errors["end_date"] = _("结束日期不能早于开始日期")
    reason = (reason or "").strip()
    msg = _reason_error(reason, _("请填写不可抽取的原因（如休假、借调、培训）"), REASON_MAX)
    if msg:
        errors["reason"] = msg
    if errors:
        return None, errors
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
    db.session.commit()
    return period, {}


def get_period(insp: Inspector, period_id: int) -> InspectorUnavailability | None:
    period = db.session.get(InspectorUnavailability, period_id)
    return period if period is not None and period.inspector_id == insp.id else None


def cancel_unavailability(
    actor: Any, insp: Inspector, period: InspectorUnavailability, reason: str | None
) -> dict[str, str]:
    """Cancel a period (never deleted: ``cancelled`` is set and the reason audited)."""
    reason = (reason or "").strip()
    msg = _reason_error(reason, _("请填写取消原因"), STATUS_REASON_MAX)
    if msg:
        return {"reason": msg}
    if period.cancelled:
        return {"reason": _("该期间已取消")}
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
        reason=reason,
    )
    db.session.commit()
    return {}


# ---------------------------------------------------------------------------------------- conflicts (回避)


def search_units(user: Any, q: str, limit: int = UNIT_OPTIONS_LIMIT) -> list[Unit]:
    """Units the user may see whose name (or USCC) contains every word of ``q``; a short list to pick from."""
    q = " ".join((q or "").split())[:MAX_QUERY_LEN]
    if not q:
        return []
    stmt = select(Unit)
    ids = visible_org_ids(user)
    if ids is not None:
        stmt = stmt.where(Unit.org_id.in_(sorted(ids)))
    for word in q.split():
        stmt = stmt.where(
            or_(Unit.name.icontains(word, autoescape=True), Unit.uscc.icontains(word.upper(), autoescape=True))
        )
    stmt = stmt.order_by(func.length(Unit.name), Unit.name, Unit.id).limit(limit)
    return list(db.session.execute(stmt).scalars())


def _visible_unit(user: Any, public_id: str) -> Unit | None:
    unit = db.session.execute(select(Unit).where(Unit.public_id == public_id)).scalar_one_or_none()
    if unit is None or not can_manage_org(user, unit.org_id):
        return None
    return unit


def declare_conflict(
    actor: Any, insp: Inspector, unit_public_id: str | None, reason: str | None
) -> tuple[InspectorConflict | None, dict[str, str]]:
    """Declare a conflict of interest with a unit: the inspector is never drawn for it (回避)."""
    errors: dict[str, str] = {}
    unit = _visible_unit(actor, (unit_public_id or "").strip()) if unit_public_id else None
    if unit is None:
        errors["unit"] = _("请从列表中选择单位")
    reason = (reason or "").strip()
    msg = _reason_error(reason, _("请填写利害关系（如亲属任职、曾在该单位工作）"), REASON_MAX)
    if msg:
        errors["reason"] = msg
    if errors:
        return None, errors
    conflict = db.session.execute(
        select(InspectorConflict).where(InspectorConflict.inspector_id == insp.id, InspectorConflict.unit_id == unit.id)
    ).scalar_one_or_none()
    if conflict is not None and conflict.active:
        return None, {"unit": _("已登记与“%(name)s”的利害关系", name=unit.name)}
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
    db.session.commit()
    return conflict, {}


def get_conflict(insp: Inspector, conflict_id: int) -> InspectorConflict | None:
    conflict = db.session.get(InspectorConflict, conflict_id)
    return conflict if conflict is not None and conflict.inspector_id == insp.id else None


def withdraw_conflict(actor: Any, insp: Inspector, conflict: InspectorConflict, reason: str | None) -> dict[str, str]:
    """Withdraw a declared conflict (``active=False``; never deleted). A reason is required; audited."""
    reason = (reason or "").strip()
    msg = _reason_error(reason, _("请填写撤销原因"), STATUS_REASON_MAX)
    if msg:
        return {"reason": msg}
    if not conflict.active:
        return {"reason": _("该利害关系已撤销")}
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
        reason=reason,
    )
    db.session.commit()
    return {}


def conflicts_of(insp: Inspector) -> list[InspectorConflict]:
    """Active conflicts first, then withdrawn ones; units loaded with them."""
    stmt = (
        select(InspectorConflict)
        .where(InspectorConflict.inspector_id == insp.id)
        .options(selectinload(InspectorConflict.unit))
        .order_by(InspectorConflict.active.desc(), InspectorConflict.id.desc())
    )
    return list(db.session.execute(stmt).scalars())


def periods_of(insp: Inspector) -> list[InspectorUnavailability]:
    """Current and future periods first (by start), then past and cancelled ones."""
    stmt = select(InspectorUnavailability).where(InspectorUnavailability.inspector_id == insp.id)
    periods = list(db.session.execute(stmt).scalars())
    today = local_today()
    return sorted(periods, key=lambda p: (p.cancelled or p.end_date < today, p.start_date, p.id))


# ------------------------------------------------------------------------------------------------ history


def history(user: Any, insp: Inspector, limit: int = 200) -> list:
    """Audit events of this inspector, newest first, as people read them (Chinese labels, usernames)."""
    from webapp.registry.audit import queries as audit_services

    stmt = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == Inspector.__tablename__, AuditEvent.subject_id == str(insp.id))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    events = list(db.session.execute(stmt).scalars())
    views = audit_services.present(user, events)
    org_ids: set[int] = set()
    for v in views:
        pair = _payload(v.event).get("org_id")
        org_ids |= {x for x in (pair if isinstance(pair, list) else [pair]) if isinstance(x, int)}
    orgs = (
        dict(
            db.session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(org_ids)))
            ).all()
        )
        if org_ids
        else {}
    )
    for v in views:
        label = ACTION_LABELS.get(v.event.action)
        if label is not None:
            v.action_label = str(label)
        v.changes = _changes(v.event, orgs, audit_services.Change)
    return views


def _payload(ev: AuditEvent) -> dict:
    try:
        data = ev.payload
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


_HIDDEN_KEYS = ("period_id", "conflict_id", "unit_id")


def _value(name: str, v: Any, orgs: Mapping[int, str]) -> str:
    if v is None or v == "":
        return _("（空）")
    if isinstance(v, bool):
        return _("是") if v else _("否")
    if name == "org_id" and isinstance(v, int):
        return orgs.get(v, str(v))
    if name == "status" and v in INSPECTOR_STATUS:
        return str(INSPECTOR_STATUS[v])
    return str(v)


def _changes(ev: AuditEvent, orgs: Mapping[int, str], change_cls: type) -> list:
    created = (ev.action or "").endswith(".created")
    out = []
    for name, v in _payload(ev).items():
        if name in _HIDDEN_KEYS:
            continue
        label = str(FIELD_LABELS.get(name) or name)
        if isinstance(v, list) and len(v) == 2:
            if created and v[0] is None:
                out.append(change_cls(label, new=_value(name, v[1], orgs), is_diff=False))
            else:
                out.append(change_cls(label, _value(name, v[0], orgs), _value(name, v[1], orgs)))
        else:
            out.append(change_cls(label, new=_value(name, v, orgs), is_diff=False))
    return out


def cancel_reasons(views: list) -> dict[int, str]:
    """period_id -> the reason it was cancelled, from the history already loaded."""
    out: dict[int, str] = {}
    for v in views:
        if v.event.action == "inspector.unavailable_cancelled":
            pid = _payload(v.event).get("period_id")
            if isinstance(pid, int) and v.event.reason:
                out.setdefault(pid, v.event.reason)
    return out


def withdraw_reasons(views: list) -> dict[int, str]:
    """conflict_id -> the latest reason it was withdrawn."""
    out: dict[int, str] = {}
    for v in views:
        if v.event.action == "inspector.conflict_withdrawn":
            cid = _payload(v.event).get("conflict_id")
            if isinstance(cid, int) and v.event.reason:
                out.setdefault(cid, v.event.reason)
    return out
