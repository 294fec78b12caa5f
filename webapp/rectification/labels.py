"""Official Chinese terms for the rectification orders' coded values (shown through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.rectification.models import FollowUpKind, OrderKind, OrderStatus

ORDER_KIND = {OrderKind.DEADLINE: _l("责令限期改正"), OrderKind.IMMEDIATE: _l("责令立即改正")}
# the stored status, as the public results pages word it
ORDER_STATUS = {
    OrderStatus.PENDING: _l("整改中（待复查）"),
    OrderStatus.RECTIFIED: _l("已整改"),
    OrderStatus.NOT_RECTIFIED: _l("逾期未改正"),
}
# RectificationOrder.display_status(today): the tag on the order pages and the verification page
ORDER_STATE = {"pending": _l("整改中"), "overdue": _l("已逾期"), "rectified": _l("已改正")}
FOLLOW_UP = {
    FollowUpKind.PENALTY: _l("行政处罚"),
    FollowUpKind.REFERRAL: _l("移送其他部门"),
    FollowUpKind.PENDING: _l("待后续处理"),
}
