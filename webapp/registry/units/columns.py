"""Units (检查对象名录库): import columns and the one validation used by the edit form and by bulk import alike.

``clean_unit(raw)`` takes text values (as typed in a form or read from a spreadsheet cell) keyed by
field name and returns typed values plus per-field error messages in Chinese. Enumerated fields accept
the stored code or any of the Chinese spellings a market-regulation export or a person would use.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.registry.labels import OBJECT_TYPE
from webapp.registry.models import CreditLevel, ObjectType, RiskLevel, UnitClass
from webapp.registry.validation import Column, clean_uscc, phone_error, uscc_error

# Order = column order of the import template and the export.
UNIT_COLUMNS: tuple[Column, ...] = (
    Column("name", "单位名称", ("名称", "企业名称", "市场主体名称", "检查对象名称"), required=True),
    Column("uscc", "统一社会信用代码", ("信用代码", "统一社会信用代码/注册号", "社会信用代码")),
    Column("address", "地址", ("住所", "经营场所", "住所（经营场所）", "单位地址", "注册地址")),
    Column("region", "所属区域", ("区域", "乡镇（街道）", "所属乡镇", "行政区划")),
    Column("industry", "行业", ("行业门类", "所属行业", "国民经济行业")),
    Column("legal_rep", "法定代表人/负责人", ("法定代表人", "负责人", "经营者")),
    Column("safety_person", "消防安全责任人", ()),
    Column("contact_name", "联系人", ()),
    Column("contact_phone", "联系电话", ("电话", "手机", "联系方式")),
    Column("object_type", "检查对象类型", ("对象类型", "检查对象类别", "主体类型")),
    Column("unit_class", "单位类别", ("类别", "单位类型")),
    Column("crowded", "人员密集场所", ("是否人员密集场所",)),
    Column("risk_level", "风险等级", ("风险",)),
    Column("credit_level", "信用等级", ("信用",)),
    Column("complaint_count", "投诉举报次数", ("投诉次数",)),
    Column("serious_violation", "严重违法违规记录", ("严重违法",)),
)
UNIT_FIELDS = tuple(c.field for c in UNIT_COLUMNS)

# An empty cell is a 社会单位; the label (OBJECT_TYPE) is what the template and the export write.
_OBJECT_TYPE_WORDS = {
    ObjectType.SOCIAL_UNIT: ("social_unit", "社会单位", "单位"),
    ObjectType.TECH_SERVICE: (
        "tech_service",
        "消防技术服务机构",
        "社会消防技术服务机构",
        "技术服务机构",
        "消防技术服务",
    ),
    ObjectType.CIVIL_DEFENCE: ("civil_defence", "人防工程及相关单位", "人防工程", "人防相关业务单位", "人防"),
}
_UNIT_CLASS_WORDS = {
    UnitClass.KEY: ("key", "消防安全重点单位", "重点单位", "重点"),
    UnitClass.GENERAL: ("general", "一般单位", "一般", "非消防安全重点单位"),
    UnitClass.NINE_SMALL: ("nine_small", "九小场所", "九小"),
    UnitClass.OTHER: ("other", "其他单位", "其他"),
}
_RISK_WORDS = {
    RiskLevel.RED: ("red", "红", "红色", "重大", "重大风险", "红（重大风险）"),
    RiskLevel.YELLOW: ("yellow", "黄", "黄色", "较大", "较大风险", "黄（较大风险）"),
    RiskLevel.BLUE: ("blue", "蓝", "蓝色", "一般风险", "蓝（一般风险）"),
    RiskLevel.GREEN: ("green", "绿", "绿色", "低", "低风险", "绿（低风险）"),
}
_CREDIT_WORDS = {
    CreditLevel.GOOD: ("good", "良好", "信用良好", "A", "守信"),
    CreditLevel.NORMAL: ("normal", "一般", "信用一般", "B"),
    CreditLevel.POOR: ("poor", "较差", "信用较差", "差", "失信", "C", "D"),
}
_TRUE = ("是", "Y", "y", "yes", "true", "1", "√", "on")
_FALSE = ("否", "N", "n", "no", "false", "0", "", "off")


def _object_type_message() -> str:
    return str(_l("检查对象类型应为：%(labels)s", labels="、".join(str(v) for v in OBJECT_TYPE.values())))


def _lookup(words: dict, value: str):
    for member, spellings in words.items():
        if value in spellings:
            return member
    return None


def clean_unit(raw: dict[str, str | None], *, partial: bool = False) -> tuple[dict, dict[str, str]]:
    """Validate text input for a unit. With ``partial`` only the keys present are checked."""
    values: dict = {}
    errors: dict[str, str] = {}

    def text(field: str, max_len: int) -> None:
        if partial and field not in raw:
            return
        v = (raw.get(field) or "").strip()
        if len(v) > max_len:
            errors[field] = str(_l("不能超过%(n)d个字", n=max_len))
        values[field] = v or None

    text("name", 200)
    if (not partial or "name" in raw) and not values.get("name"):
        errors["name"] = str(_l("请填写单位名称"))
    for field, n in (
        ("address", 300),
        ("region", 100),
        ("industry", 100),
        ("legal_rep", 50),
        ("safety_person", 50),
        ("contact_name", 50),
    ):
        text(field, n)

    if not partial or "uscc" in raw:
        v = (raw.get("uscc") or "").strip()
        if v:
            msg = uscc_error(v)
            if msg:
                errors["uscc"] = msg
            values["uscc"] = clean_uscc(v)
        else:
            values["uscc"] = None

    if not partial or "contact_phone" in raw:
        v = (raw.get("contact_phone") or "").strip().replace(" ", "")
        msg = phone_error(v)
        if msg:
            errors["contact_phone"] = msg
        values["contact_phone"] = v or None

    if not partial or "unit_class" in raw:
        v = (raw.get("unit_class") or "").strip()
        if v:
            member = _lookup(_UNIT_CLASS_WORDS, v)
            if member is None:
                errors["unit_class"] = str(_l("单位类别应为：消防安全重点单位、一般单位、九小场所、其他单位"))
            values["unit_class"] = member
        else:
            values["unit_class"] = None

    for field, words, default, message in (
        ("object_type", _OBJECT_TYPE_WORDS, ObjectType.SOCIAL_UNIT, _object_type_message),
        ("risk_level", _RISK_WORDS, RiskLevel.BLUE, _l("风险等级应为：红、黄、蓝、绿")),
        ("credit_level", _CREDIT_WORDS, CreditLevel.NORMAL, _l("信用等级应为：良好、一般、较差")),
    ):
        if partial and field not in raw:
            continue
        v = (raw.get(field) or "").strip()
        member = _lookup(words, v) if v else default
        if member is None:
            errors[field] = str(message() if callable(message) else message)
        values[field] = member

    for field in ("crowded", "serious_violation"):
        if partial and field not in raw:
            continue
        v = str(raw.get(field) if raw.get(field) is not None else "").strip()
        if v in _TRUE:
            values[field] = True
        elif v in _FALSE:
            values[field] = False
        else:
            errors[field] = str(_l("请填写“是”或“否”"))

    if not partial or "complaint_count" in raw:
        v = str(raw.get("complaint_count") if raw.get("complaint_count") is not None else "").strip()
        if not v:
            values["complaint_count"] = 0
        elif v.isdigit() and int(v) < 100000:
            values["complaint_count"] = int(v)
        else:
            errors["complaint_count"] = str(_l("投诉举报次数应为非负整数"))

    if values.get("crowded") and values.get("unit_class") not in (None, UnitClass.KEY) and "crowded" not in errors:
        # 人员密集场所 is a sub-kind of key units in this regime's coverage rules.
        errors["crowded"] = str(_l("人员密集场所应属于消防安全重点单位"))
    return values, errors
