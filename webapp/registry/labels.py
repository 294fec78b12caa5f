"""The registry's one label table: official Chinese terms for its coded values and field names (Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.auth.labels import ORG_KIND
from webapp.registry.models import CreditLevel, InspectorStatus, ObjectType, RiskLevel, UnitClass, UnitStatus

OBJECT_TYPE = {
    ObjectType.SOCIAL_UNIT: _l("社会单位"),
    ObjectType.TECH_SERVICE: _l("消防技术服务机构"),
    ObjectType.CIVIL_DEFENCE: _l("人防工程及相关单位"),
}
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
DEPT = {"fire": _l("消防救援机构"), "market": _l("市场监督管理部门"), "civil_defence": _l("人防部门")}
POSTS = ("专职消防监督员", "兼职消防监督员", "消防文员", "市场监管执法人员", "人防执法人员")
# Draw weight by post (专职消防监督员的抽取比例要高于其他岗位人员, seed 004); editable per person.
POST_DEFAULT_WEIGHT = {"专职消防监督员": 150, "兼职消防监督员": 100, "消防文员": 50}
# Chinese names of a unit's fields (form labels, detail page, audit history).
UNIT_FIELD = {
    "object_type": _l("检查对象类型"),
    "name": _l("单位名称"),
    "uscc": _l("统一社会信用代码"),
    "address": _l("地址"),
    "region": _l("所属区域"),
    "industry": _l("行业"),
    "legal_rep": _l("法定代表人/负责人"),
    "safety_person": _l("消防安全责任人"),
    "contact_name": _l("联系人"),
    "contact_phone": _l("联系电话"),
    "unit_class": _l("单位类别"),
    "crowded": _l("人员密集场所"),
    "risk_level": _l("风险等级"),
    "credit_level": _l("信用等级"),
    "complaint_count": _l("投诉举报次数"),
    "serious_violation": _l("严重违法违规记录"),
    "org_id": _l("所属机构"),
    "status": _l("状态"),
    "status_reason": _l("状态原因"),
}
# Chinese names of an inspector's fields (form labels, detail page, audit history).
INSPECTOR_FIELD = {
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
# The inspector list's pool-state filter (computed for the current month).
INSPECTOR_POOL_FILTER = {
    "in": _l("在库可抽"),
    "cert": _l("证件过期/无证"),
    "frozen": _l("冻结"),
    "unavailable": _l("本月不可用"),
}
MISSING_FIELD = {
    "address": _l("地址"),
    "uscc": _l("统一社会信用代码"),
    "safety_person": _l("消防安全责任人"),
    "unit_class": _l("单位类别"),
}


def jinja_globals() -> dict:
    return {
        "OBJECT_TYPE": OBJECT_TYPE,
        "UNIT_CLASS": UNIT_CLASS,
        "RISK_LEVEL": RISK_LEVEL,
        "CREDIT_LEVEL": CREDIT_LEVEL,
        "UNIT_STATUS": UNIT_STATUS,
        "INSPECTOR_STATUS": INSPECTOR_STATUS,
        "ORG_KIND": ORG_KIND,
        "DEPT": DEPT,
        "MISSING_FIELD": MISSING_FIELD,
    }
