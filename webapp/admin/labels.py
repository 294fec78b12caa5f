"""The one label table of the admin package's codes."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from webapp import calendar as cal

# CalendarYear.status → Chinese.
YEAR_STATUS: dict[str, Any] = {
    cal.YEAR_ENTERED: _l("已录入节假日安排"),
    cal.YEAR_CONFIRMED: _l("已确认暂无节假日安排"),
}
