"""The one label table of audit actions, action groups and subject kinds (shown through Flask-Babel)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# Action codes → Chinese. Unknown codes are shown as they are (see queries.action_label).
ACTION_LABELS: dict[str, Any] = {
    "unit.created": _l("新增检查对象"),
    "unit.updated": _l("修改检查对象"),
    "unit.status_changed": _l("变更检查对象状态"),
    "inspector.created": _l("新增执法检查人员"),
    "inspector.updated": _l("修改执法检查人员"),
    "inspector.frozen": _l("冻结执法检查人员"),
    "inspector.unfrozen": _l("解冻执法检查人员"),
    "inspector.unavailable_added": _l("登记不可抽取期间"),
    "inspector.unavailable_cancelled": _l("取消不可抽取期间"),
    "inspector.conflict_declared": _l("登记利害关系（回避）"),
    "inspector.conflict_withdrawn": _l("撤销利害关系（回避）"),
    "item.created": _l("新增抽查事项"),
    "item.updated": _l("修改抽查事项"),
    "item.version_created": _l("发布抽查事项新版本"),
    "user.login": _l("登录"),
    "user.logout": _l("退出登录"),
    "user.created": _l("新增用户"),
    "user.updated": _l("修改用户"),
    "user.password_changed": _l("修改密码"),
    "user.deactivated": _l("停用用户"),
    "org.created": _l("新增机构"),
    "org.updated": _l("修改机构"),
    "inspection.finding_delete": _l("删除检查发现的问题"),
    "draw.abandoned": _l("放弃抽取"),
    "draw.replaced": _l("递补抽取"),
    "item.deactivated": _l("停用抽查事项"),
    "org.deactivated": _l("停用机构"),
    "org.reactivated": _l("启用机构"),
    "item.reactivated": _l("启用抽查事项"),
    "user.reactivated": _l("启用用户"),
    "user.password_reset": _l("重置密码"),
    "calendar.override_set": _l("调整工作日历"),
    "import.units": _l("导入检查对象"),
    "import.inspectors": _l("导入执法检查人员"),
    "export.units": _l("导出检查对象"),
    "export.tasks": _l("导出检查任务"),
    "export.results": _l("导出检查结果"),
    "export.rectifications": _l("导出整改情况"),
    "plan.created": _l("创建计划"),
    "plan.updated": _l("修改计划"),
    "draw.committed": _l("冻结名录并生成承诺值"),
    "draw.witness_added": _l("见证人输入随机数值"),
    "draw.drawn": _l("完成抽取"),
    "draw.published": _l("公布抽取结果"),
    "task.created_manual": _l("创建检查任务（非随机抽取）"),
    "inspection.start": _l("开始检查"),
    "inspection.partner": _l("确认协办人员到场"),
    "inspection.answer": _l("填写检查表"),
    "inspection.finding_add": _l("记录检查发现的问题"),
    "inspection.photo_add": _l("上传现场照片"),
    "inspection.result": _l("填写检查结果"),
    "inspection.sign": _l("签字确认"),
    "inspection.refuse_sign": _l("记录拒绝签字"),
    "inspection.submit": _l("提交检查记录"),
    "inspection.supplement": _l("补充检查记录"),
    "notice.numbering": _l("设置文书编号规则"),
    "notice.issue": _l("签发责令改正通知书"),
    "notice.reinspection_task": _l("生成复查任务"),
    "notice.outcome": _l("记录复查结果"),
    "unit.credit_risk": _l("调整信用与风险等级（逾期未改正）"),
    "publication.published": _l("公示检查结果"),
    "publication.auto": _l("到期自动公示"),
    "publication.review_changed": _l("变更公示前审核"),
    "demo.loaded": _l("载入演示数据"),
}

# Filter choices of the audit log page: action prefix → label.
ACTION_PREFIXES: dict[str, Any] = {
    "unit.": _l("检查对象"),
    "inspector.": _l("执法检查人员"),
    "item.": _l("抽查事项"),
    "import.": _l("批量导入"),
    "user.": _l("用户与登录"),
    "org.": _l("机构"),
    "plan.": _l("抽查计划"),
    "draw.": _l("随机抽取"),
    "task.": _l("检查任务"),
}

# Subject kinds (AuditEvent.subject_type) → Chinese.
SUBJECT_LABELS: dict[str, Any] = {
    "unit": _l("检查对象"),
    "inspector": _l("执法检查人员"),
    "user": _l("用户"),
    "item": _l("抽查事项"),
    "import_job": _l("导入任务"),
    "organisation": _l("机构"),
}
