"""Inspectors (执法检查人员名录库): import columns and the one validation of an inspector's fields.

``clean_inspector(raw, org_dept=...)`` is used by the edit form and by bulk import alike (the importer matches
existing inspectors by ``cert_no``). It takes text values keyed by the field names of :data:`INSPECTOR_COLUMNS`
and returns typed values keyed by ``Inspector`` attributes (the same names), plus per-field errors in Chinese.
The one difference: the ``user_id`` column (登录账号) holds a username as text, and an id (the linked user of
role inspector) in the values. Column fields must be ``Inspector`` attributes: the importer reads and updates
them by name.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.auth.models import Role, User
from webapp.extensions import db
from webapp.registry.labels import POST_DEFAULT_WEIGHT, POSTS
from webapp.registry.models import Inspector
from webapp.registry.validation import Column, phone_error

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
