"""Official Chinese terms for the task's coded values (shown through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.tasks.models import TaskKind, TaskStatus

TASK_KIND = {
    TaskKind.ROUTINE: _l("日常监督抽查"),
    TaskKind.SPECIAL: _l("专项检查"),
    TaskKind.COMPLAINT: _l("举报投诉"),
    TaskKind.REFERRAL: _l("转办交办"),
    TaskKind.REINSPECTION: _l("复查"),
}
# Complaint / referral tasks are never drawn: every page says so next to the task.
NOT_DRAWN = {
    TaskKind.COMPLAINT: _l("非随机抽取（举报投诉）"),
    TaskKind.REFERRAL: _l("非随机抽取（转办交办）"),
}
TASK_STATUS = {
    TaskStatus.PLANNED: _l("待检查"),
    TaskStatus.IN_PROGRESS: _l("检查中"),
    TaskStatus.SUBMITTED: _l("已提交"),
    TaskStatus.CANCELLED: _l("已作废"),
}
SLOT_ROLE = {"lead": _l("主办"), "assist": _l("协办")}
