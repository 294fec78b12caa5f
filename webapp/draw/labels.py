"""Official Chinese terms for the draw's coded values (shown through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.draw.models import DrawStatus, PlanKind, PlanStatus
from webapp.registry.labels import DEPT
from webapp.tasks.labels import NOT_DRAWN, SLOT_ROLE, TASK_KIND, TASK_STATUS

STRATUM = {
    "key_crowded": _l("人员密集场所（重点单位）"),
    "key": _l("其他消防安全重点单位"),
    "general": _l("一般单位"),
    "nine_small": _l("九小场所"),
    "other": _l("其他单位"),
}
# Why a unit is not in the pool (plans.eligibility reason codes).
EXCLUSION = {
    "closed": _l("已停业/注销"),
    "zombie": _l("僵尸单位"),
    "class_missing": _l("单位类别缺失"),
    "twice_this_year": _l("本年度已抽查2次"),
    "less_than_6_months": _l("距上次抽查不足6个月"),
    "already_drawn": _l("本期已被抽取"),
    "done_this_year": _l("本年度已完成检查"),
}
# Why an inspector is not in the pool (the reason codes of the inspector-pool rule, draw.pool).
INSPECTOR_EXCLUSION = {
    "cert_missing": _l("无行政执法证件"),
    "cert_expired": _l("执法证件已过期"),
    "cert_expires_in_period": _l("执法证件将在本期内过期"),
    "frozen": _l("已冻结"),
    "unavailable_all_period": _l("整个抽取期间请假或借调"),
    "wrong_dept": _l("不属于本事项的检查部门"),
    "org_inactive": _l("所属机构已撤销"),
}
DRAW_STATUS = {
    DrawStatus.COMMITTED: _l("已冻结名录，待抽取"),
    DrawStatus.DRAWN: _l("已抽取，未公布"),
    DrawStatus.PUBLISHED: _l("已公布"),
    DrawStatus.ABANDONED: _l("已放弃（已公开）"),
}
DRAW_STATUS_TAG = {
    DrawStatus.COMMITTED: "yellow",
    DrawStatus.DRAWN: "blue",
    DrawStatus.PUBLISHED: "green",
    DrawStatus.ABANDONED: "grey",
}
# The public register's status of a draw (the bundle's draw.status)
REGISTER_STATUS = {
    "committed": _l("已冻结名录，待抽取"),
    "drawn": _l("已抽取，未公布"),
    "published": _l("已公布，递补可进行"),
    "closed": _l("已结束"),
}
# The ceremony log's event types (DRAW_SPEC section 1)
LOG_EVENT = {
    "commit": _l("冻结名录，生成承诺值"),
    "witness": _l("见证人输入数值"),
    "draw": _l("抽取"),
    "replace": _l("递补抽取"),
    "abandon": _l("放弃"),
    "publish": _l("公布"),
    "close": _l("结束"),
}
# Why an inspector was excluded from a 递补 at that moment (excluded_now reason codes)
EXCLUDED_NOW = {
    "leave": _l("请假或借调"),
    "frozen": _l("已冻结"),
    "certificate": _l("执法证件无效"),
    "conflict": _l("需要回避"),
    "inactive": _l("已离职或机构撤销"),
    "other": _l("其他原因"),
}
PLAN_KIND = {PlanKind.ROUTINE: _l("年度抽查计划"), PlanKind.SPECIAL: _l("专项检查")}
PLAN_STATUS = {PlanStatus.DRAFT: _l("草稿"), PlanStatus.ACTIVE: _l("执行中"), PlanStatus.CLOSED: _l("已结束")}
WITNESS_ROLES = ("廉政监督员", "企业代表", "人大代表", "政协委员", "新闻媒体", "其他")
WITNESS_ROLE_LABELS = {  # written out so that the strings are extracted for translation
    "廉政监督员": _l("廉政监督员"),
    "企业代表": _l("企业代表"),
    "人大代表": _l("人大代表"),
    "政协委员": _l("政协委员"),
    "新闻媒体": _l("新闻媒体"),
    "其他": _l("其他"),
}
assert tuple(WITNESS_ROLE_LABELS) == WITNESS_ROLES
RISK_KEYS = ("red", "yellow", "blue", "green")
CREDIT_KEYS = ("poor", "normal", "good")
WEEKDAY = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))


def dept_label(code: str) -> str:
    return str(DEPT.get(code, code))


def draw_globals() -> dict:
    """Template globals for the draw and public blueprints."""
    return {
        "STRATUM": STRATUM,
        "EXCLUSION": EXCLUSION,
        "INSPECTOR_EXCLUSION": INSPECTOR_EXCLUSION,
        "DRAW_STATUS": DRAW_STATUS,
        "DRAW_STATUS_TAG": DRAW_STATUS_TAG,
        "REGISTER_STATUS": REGISTER_STATUS,
        "LOG_EVENT": LOG_EVENT,
        "EXCLUDED_NOW": EXCLUDED_NOW,
        "PLAN_KIND": PLAN_KIND,
        "PLAN_STATUS": PLAN_STATUS,
        "TASK_KIND": TASK_KIND,
        "NOT_DRAWN": NOT_DRAWN,
        "TASK_STATUS": TASK_STATUS,
        "SLOT_ROLE": SLOT_ROLE,
        "WEEKDAY": WEEKDAY,
        "dept_label": dept_label,
    }
