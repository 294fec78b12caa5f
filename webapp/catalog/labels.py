"""Official Chinese terms for the item list's coded values (shown through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.catalog.models import SuggestedOrder

# the order a common problem usually gets (the same terms as the rectification orders)
SUGGESTED_ORDER = {
    SuggestedOrder.IMMEDIATE: _l("责令立即改正"),
    SuggestedOrder.DEADLINE: _l("责令限期改正"),
}
