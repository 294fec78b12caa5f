"""Working-day calendar: the official schedule where chinese-calendar knows the year, admin overrides otherwise."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.helpers import body, events
from webapp import calendar as cal

D = dt.date


def draw_cells(page: str) -> list[int]:
    """Day numbers of the month grid cells marked as 抽取日."""
    return [
        int(n) for n in re.findall(r'<td class="[^"]*\bdraw\b[^"]*">\s*<a[^>]*>\s*<span class="d">(\d+)</span>', page)
    ]


def test_page_says_whether_the_official_schedule_is_known(client, admin, login_as):
    login_as(admin)
    page = body(client.get("/admin/calendar?year=2026&month=10"))
    assert "系统已内置2026年国务院公布的节假日和调休安排" in page
    page = body(client.get("/admin/calendar?year=2027"))
    assert "系统尚未内置2027年的节假日安排" in page


def test_month_grid_marks_working_days_and_the_two_draw_days(client, admin, login_as):
    login_as(admin)
    page = body(client.get("/admin/calendar?year=2026&month=9"))
    assert draw_cells(page) == [29, 30]
    assert "抽取日（本月最后两个工作日）：9月29日、9月30日" in page
    page = body(client.get("/admin/calendar?year=2026&month=10"))
    # 2026-10-01 is 国庆节: not a working day
    assert re.search(r'<td class="rest[^"]*">\s*<a href="[^"]*day=2026-10-01', page)


def test_a_2027_holiday_override_changes_the_working_days_and_the_draw_days(client, db, admin, login_as):
    assert not cal.year_known(2027)
    before = cal.working_days_of_month(2027, 3, cal.db_overrides())
    assert D(2027, 3, 31) in before
    assert cal.last_working_days(2027, 3, overrides=cal.db_overrides()) == [D(2027, 3, 30), D(2027, 3, 31)]

    login_as(admin)
    resp = client.post("/admin/calendar", data={"day": "2027-03-31", "is_workday": "0", "note": "假设的放假日"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/admin/calendar?year=2027&month=3")

    db.session.rollback()
    after = cal.working_days_of_month(2027, 3, cal.db_overrides())
    assert after == [d for d in before if d != D(2027, 3, 31)]
    assert cal.last_working_days(2027, 3, overrides=cal.db_overrides()) == [D(2027, 3, 29), D(2027, 3, 30)]
    page = body(client.get("/admin/calendar?year=2027&month=3"))
    assert draw_cells(page) == [29, 30]
    assert "假设的放假日" in page and "2027年的调整（1天）" in page

    (ev,) = events(db, "calendar.override_set")
    assert ev.subject_id == "2027-03-31"
    assert ev.payload == {"day": "2027-03-31", "is_workday": [None, False], "note": [None, "假设的放假日"]}


def test_a_weekend_tiaoxiu_working_day_counts_as_working(client, db, admin, login_as):
    login_as(admin)
    before = cal.working_days_of_month(2027, 2, cal.db_overrides())
    assert D(2027, 2, 6) not in before  # a Saturday
    resp = client.post("/admin/calendar", data={"day": "2027-02-06", "is_workday": "1", "note": "春节调休上班"})
    assert resp.status_code == 303
    db.session.rollback()
    after = cal.working_days_of_month(2027, 2, cal.db_overrides())
    assert after == sorted([*before, D(2027, 2, 6)])
    page = body(client.get("/admin/calendar?year=2027&month=2"))
    assert re.search(
        r'<td class="work[^"]*">\s*<a href="[^"]*day=2027-02-06[^>]*>\s*<span class="d">6</span>\s*'
        r'<span class="mark">班</span>',
        page,
    )


def test_changing_an_override_is_audited_with_old_and_new(client, db, admin, login_as):
    login_as(admin)
    client.post("/admin/calendar", data={"day": "2027-10-01", "is_workday": "0", "note": "国庆节"})
    resp = client.post("/admin/calendar", data={"day": "2027-10-01", "is_workday": "1", "note": "录错，改回工作日"})
    assert resp.status_code == 303
    db.session.rollback()
    assert cal.db_overrides() == {D(2027, 10, 1): True}
    _first, second = events(db, "calendar.override_set")
    assert second.payload == {"day": "2027-10-01", "is_workday": [False, True], "note": ["国庆节", "录错，改回工作日"]}

    resp = client.post("/admin/calendar", data={"day": "2027-10-01", "is_workday": "1", "note": "录错，改回工作日"})
    assert resp.status_code == 422 and "与现有设置相同，无需修改" in body(resp)
    assert len(events(db, "calendar.override_set")) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "", "is_workday": "0"}, "请选择日期"),
        ({"day": "2027-02-30", "is_workday": "0"}, "请选择有效的日期"),
        ({"day": "2027-05-03"}, "请选择工作日或休息日"),
        ({"day": "2027-05-03", "is_workday": "0", "note": "长" * 101}, "不能超过100个字"),
    ],
)
def test_override_rules_are_explained_in_chinese(client, db, admin, login_as, data, message):
    login_as(admin)
    resp = client.post("/admin/calendar", data=data)
    assert resp.status_code == 422
    assert message in body(resp)
    db.session.rollback()
    assert cal.db_overrides() == {}


def test_clicking_a_day_fills_in_the_form(client, admin, login_as):
    login_as(admin)
    page = body(client.get("/admin/calendar?day=2026-10-01"))
    assert 'value="2026-10-01"' in page
    assert re.search(r'<input checked[^>]*value="1"', page)  # a holiday: offer to make it a working day
    assert "2026年10月" in page


@pytest.mark.parametrize("who", ["supervisor", "inspector"])
def test_only_admins_open_the_calendar(request, client, login_as, who):
    login_as(request.getfixturevalue(who))
    assert client.get("/admin/calendar").status_code == 403
    assert client.post("/admin/calendar", data={"day": "2027-03-31", "is_workday": "0"}).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    resp = client.get("/admin/calendar?year=2027")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post("/admin/calendar", data={"day": "2027-03-31", "is_workday": "0"}).status_code == 302
    assert cal.db_overrides() == {}
