"""Official Chinese terms for the registry's coded values (shown through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.auth.models import OrgKind
from webapp.registry.models import CreditLevel, InspectorStatus, RiskLevel, UnitClass, UnitStatus

UNIT_CLASS = {
    UnitClass.KEY: _l("消防安全重点单位"),
    UnitClass.GENERAL: _l("一般单位"),
    UnitClass.NINE_SMALL: _l("九小场所"),
    UnitClass.OTHER: _l("其他单位"),
}
RISK_LEVEL = {
    RiskLevel.RED: _l("红（重大风险）"),
    RiskLevel.YELLOW: _l("黄（较大风险）"),
    RiskLevel.BLUE: _l("蓝（一般风险）"),
    RiskLevel.GREEN: _l("绿（低风险）"),
}
CREDIT_LEVEL = {
    CreditLevel.GOOD: _l("信用良好"),
    CreditLevel.NORMAL: _l("信用一般"),
    CreditLevel.POOR: _l("信用较差"),
}
UNIT_STATUS = {
    UnitStatus.ACTIVE: _l("正常"),
    UnitStatus.CLOSED: _l("已停业/注销"),
    UnitStatus.ZOMBIE: _l("僵尸单位"),
}
INSPECTOR_STATUS = {InspectorStatus.ACTIVE: _l("在岗"), InspectorStatus.FROZEN: _l("已冻结")}
ORG_KIND = {
    OrgKind.ZONGDUI: _l("总队"),
    OrgKind.ZHIDUI: _l("支队"),
    OrgKind.DADUI: _l("大队"),
    OrgKind.DEPARTMENT: _l("其他部门"),
}
DEPT = {"fire": _l("消防救援机构"), "market": _l("市场监督管理部门"), "civil_defence": _l("人防部门")}
POSTS = ("专职消防监督员", "兼职消防监督员", "消防文员", "市场监管执法人员", "人防执法人员")
# Draw weight by post (专职消防监督员的抽取比例要高于其他岗位人员, seed 004); editable per person.
POST_DEFAULT_WEIGHT = {"专职消防监督员": 150, "兼职消防监督员": 100, "消防文员": 50}
MISSING_FIELD = {
    "address": _l("地址"),
    "uscc": _l("统一社会信用代码"),
    "safety_person": _l("消防安全责任人"),
    "unit_class": _l("单位类别"),
}


def jinja_globals() -> dict:
    return {
        "UNIT_CLASS": UNIT_CLASS,
        "RISK_LEVEL": RISK_LEVEL,
        "CREDIT_LEVEL": CREDIT_LEVEL,
        "UNIT_STATUS": UNIT_STATUS,
        "INSPECTOR_STATUS": INSPECTOR_STATUS,
        "ORG_KIND": ORG_KIND,
        "DEPT": DEPT,
        "MISSING_FIELD": MISSING_FIELD,
    }
