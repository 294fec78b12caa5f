"""Times on every page are Shanghai times: templates show a stored (UTC) datetime only through the ``local``
filter, never by formatting it themselves."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# strftime on anything, or a *_at timestamp printed, formatted or cut to a date without |local
RAW_TIME = re.compile(r"\.strftime\(|\b\w+_at\s*(?:\}\}|\)|\.isoformat\(|\.date\(|\.time\(|\.hour\b|\.minute\b)")


def test_no_template_formats_a_datetime_itself():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RAW_TIME.search(line):
                found.append(f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:120]}")
    assert not found, "datetimes must go through |local (Asia/Shanghai):\n" + "\n".join(found)


def test_the_scan_catches_a_raw_timestamp():
    assert RAW_TIME.search("{{ draw.abandoned_at.strftime('%Y-%m-%d %H:%M') }}")
    assert RAW_TIME.search("{{ ev.at.strftime('%H:%M') }}")
    assert RAW_TIME.search("{{ order.issued_at }}")
    assert not RAW_TIME.search("{{ order.issued_at|local }}")
    assert not RAW_TIME.search("{{ task.planned_date.isoformat() }}")  # a date is a calendar day, no zone


def test_local_filter_shows_shanghai_time(app):
    with app.test_request_context():
        local = app.jinja_env.filters["local"]
        at = dt.datetime(2026, 12, 1, 0, 45, tzinfo=dt.UTC)
        assert local(at) == "2026-12-01 08:45"
        assert local(dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)) == "2027-01-01 00:30"
        assert local(None) == ""
