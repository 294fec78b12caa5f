"""Official Chinese terms for the inspection record's coded values (shown through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.inspections.models import (
    Answer,
    CheckResult,
    InspectionStatus,
    PartnerPresence,
    PublishedCategory,
    SignerRole,
)

# 检查结果 on the check form
RESULT_LABELS = {
    CheckResult.NO_PROBLEM: _l("未发现问题"),
    CheckResult.IMMEDIATE: _l("责令立即改正"),
    CheckResult.DEADLINE: _l("责令限期改正"),
}
# 公示结果类别: the eight national categories of a published result
CATEGORY_LABELS = {
    PublishedCategory.NO_PROBLEM: _l("未发现问题"),
    PublishedCategory.NOT_DISCLOSED: _l("未按规定公示应当公示的信息"),
    PublishedCategory.FALSE_DISCLOSURE: _l("公示信息隐瞒真实情况弄虚作假"),
    PublishedCategory.UNREACHABLE: _l("通过登记的住所（经营场所）无法联系"),
    PublishedCategory.ORDERED_RECTIFY: _l("发现问题已责令改正"),
    PublishedCategory.NON_COOPERATION: _l("不配合检查情节严重"),
    PublishedCategory.NO_ACTIVITY: _l("未发现开展本次抽查涉及的经营活动"),
    PublishedCategory.PENDING_FOLLOWUP: _l("发现问题待后续处理"),
}
# a checklist point's answer
ANSWER_LABELS = {
    Answer.COMPLIES: _l("符合"),
    Answer.FAILS: _l("不符合"),
    Answer.NA: _l("不适用"),
}
# the record's state
INSPECTION_STATUS = {
    InspectionStatus.DRAFT: _l("检查中（草稿）"),
    InspectionStatus.SUBMITTED: _l("已提交"),
}
# how the partner's presence was confirmed
PARTNER_PRESENCE = {
    PartnerPresence.CONFIRMED: _l("协办人员本人确认到场"),
    PartnerPresence.RECORDED_BY_LEAD: _l("主办人员记录协办人员到场"),
}
# who signs
SIGNER_ROLE = {
    SignerRole.UNIT: _l("被检查单位随同人员"),
    SignerRole.INSPECTOR: _l("执法检查人员"),
}
# why the phone gave no position at check-in: the code the page sends → what the record says
LOCATION_ERRORS = {
    "denied": _l("定位被拒绝"),
    "unavailable": _l("无法获取位置"),
    "timeout": _l("定位超时"),
    "unsupported": _l("设备不支持定位"),
}
