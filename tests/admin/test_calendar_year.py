"""Making a year known on the admin calendar page and from the command line.

An administrator pastes the State Council's notice, reviews the days the app read (nothing is saved yet), then
saves them; or types ranges; or confirms the year as "no holidays known yet" with a reason. Every save is
audited. The year used is the first one the holiday library does not know, so nothing depends on today's date.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from tests.helpers import body, events
from webapp import calendar as cal
from webapp.admin.cli import calendar_cli
from webapp.audit import AuditEvent

D = dt.date

# The first year after 2025 that the holiday library does not know (2027 with chinesecalendar 1.11.0).
UNKNOWN = next(y for y in range(2026, 2100) if not cal.library_knows(y))
LIBRARY = UNKNOWN - 1

# The real 2026 notice (国办发明电〔2025〕7号), retitled for the unknown year: 33 holidays, 6 调休 working days.
NOTICE = f"""国务院办公厅关于{UNKNOWN}年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，确保人民群众祥和平安度过节日假期。
"""


def count(db, model) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def audit_count(db) -> int:
    return count(db, AuditEvent)


def digest_of(page: str) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]+)"', page)
    assert found, "the review offers no save button"
    return found.group(1)


# ----------------------------------------------------------------------------------------- the notice


def test_an_unknown_year_says_draws_cannot_freeze_and_offers_the_notice_form(client, admin, login_as):
    login_as(admin)
    page = body(client.get(f"/admin/calendar?year={UNKNOWN}"))
    assert f"{UNKNOWN}年的节假日安排尚未录入或确认" in page
    assert "该年的抽取计划不能冻结名录" in page
    assert "录入国务院办公厅放假通知" in page and "确认暂无节假日安排" in page
    library_page = body(client.get(f"/admin/calendar?year={LIBRARY}"))
    assert "录入国务院办公厅放假通知" not in library_page


def test_pasting_the_notice_shows_the_days_for_review_and_saves_nothing(client, db, admin, login_as):
    login_as(admin)
    before = audit_count(db)
    resp = client.post("/admin/calendar/notice", data={"notice": NOTICE, "year": "", "action": "parse"})
    assert resp.status_code == 200
    page = body(resp)
    assert f"预览：{UNKNOWN}年 放假33天、调休上班6天" in page
    assert f"{UNKNOWN}-10-01" in page and "七、国庆节：10月1日（周四）至7日（周三）放假调休" in page
    assert f"{UNKNOWN}-02-14" in page and "春节" in page
    assert "核对无误，保存39天" in page
    assert NOTICE.splitlines()[0] in page  # the pasted text is kept in the form
    assert cal.db_overrides() == {} and not cal.year_known(UNKNOWN)
    assert count(db, cal.CalendarYear) == 0 and audit_count(db) == before


def test_saving_the_reviewed_notice_enters_each_day_and_makes_the_year_known(client, db, admin, login_as):
    login_as(admin)
    review = body(client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "parse"}))
    resp = client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "save", "digest": digest_of(review)})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/admin/calendar?year={UNKNOWN}")
    db.session.rollback()
    overrides = cal.db_overrides()
    assert len(overrides) == 39
    assert overrides[D(UNKNOWN, 2, 15)] is False and overrides[D(UNKNOWN, 2, 14)] is True
    assert cal.year_known(UNKNOWN)
    assert cal.period_gate(D(UNKNOWN, 1, 1), D(UNKNOWN, 12, 31)) is None
    (entered,) = events(db, "calendar.year_entered")
    assert entered.subject_type == "calendar_year" and entered.subject_id == str(UNKNOWN)
    assert entered.actor_name == admin.username
    assert entered.payload["source"] == f"国务院办公厅关于{UNKNOWN}年部分节假日安排的通知"
    assert entered.payload["status"] == [None, "entered"] and entered.payload["changed_days"] == 39
    assert f"{UNKNOWN}-10-07" in entered.payload["holidays"] and f"{UNKNOWN}-09-20" in entered.payload["workdays"]
    assert len(events(db, "calendar.override_set")) == 39
    page = body(client.get(f"/admin/calendar?year={UNKNOWN}"))
    assert f"已录入{UNKNOWN}年的节假日安排" in page and "尚未录入或确认" not in page
    assert f"{UNKNOWN}年的调整（39天）" in page

    # the same notice again changes nothing day by day, and says so
    review = body(client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "parse"}))
    client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "save", "digest": digest_of(review)})
    assert len(events(db, "calendar.override_set")) == 39
    assert events(db, "calendar.year_entered")[-1].payload["changed_days"] == 0


def test_text_changed_after_the_review_is_not_saved(client, db, admin, login_as):
    login_as(admin)
    review = body(client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "parse"}))
    edited = NOTICE.replace("10月10日（周六）上班", "10月11日（周日）上班")
    resp = client.post("/admin/calendar/notice", data={"notice": edited, "action": "save", "digest": digest_of(review)})
    assert resp.status_code == 422
    assert "内容在预览后有改动，请核对下方新的预览后再保存" in body(resp)
    assert cal.db_overrides() == {} and not cal.year_known(UNKNOWN)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"notice": "", "year": ""}, "请粘贴国务院办公厅放假通知的全文"),
        ({"notice": "二、春节：2月6日至12日放假调休，共7天。", "year": ""}, "请填写年份"),
        ({"notice": NOTICE, "year": str(UNKNOWN + 1)}, f"与通知标题中的年份（{UNKNOWN}年）不一致"),
        ({"notice": "二、春节：2月30日至3月2日放假调休。", "year": str(UNKNOWN)}, "日期“2月30日”不存在"),
    ],
)
def test_notice_problems_are_shown_next_to_the_field_and_the_text_kept(client, db, admin, login_as, data, message):
    login_as(admin)
    for action in ("parse", "save"):
        resp = client.post("/admin/calendar/notice", data={**data, "action": action})
        assert resp.status_code == 422
        page = body(resp)
        assert message in page
        assert "核对无误，保存" not in page
        if data["notice"]:
            assert data["notice"].splitlines()[0] in page
    assert cal.db_overrides() == {} and count(db, cal.CalendarYear) == 0


def test_ranges_typed_by_hand_are_reviewed_then_saved(client, db, admin, login_as):
    login_as(admin)
    data = {
        "year": str(UNKNOWN),
        "holidays": f"{UNKNOWN}-01-01\n{UNKNOWN}-10-01:{UNKNOWN}-10-07 国庆节",
        "workdays": f"{UNKNOWN}-10-09",
    }
    review = body(client.post("/admin/calendar/ranges", data={**data, "action": "parse"}))
    assert f"预览：{UNKNOWN}年 放假8天、调休上班1天" in review
    assert cal.db_overrides() == {}
    resp = client.post("/admin/calendar/ranges", data={**data, "action": "save", "digest": digest_of(review)})
    assert resp.status_code == 303
    db.session.rollback()
    assert cal.db_overrides()[D(UNKNOWN, 10, 9)] is True and cal.year_known(UNKNOWN)
    assert events(db, "calendar.year_entered")[0].payload["source"] == "手工录入"

    resp = client.post(
        "/admin/calendar/ranges", data={"year": str(UNKNOWN), "holidays": "10-01", "workdays": "", "action": "parse"}
    )
    assert resp.status_code == 422 and "这样的日期或日期范围" in body(resp)


# ------------------------------------------------------------------------------------ the confirmation


def test_confirming_no_holidays_known_yet_needs_a_reason_and_is_audited(client, db, admin, login_as):
    login_as(admin)
    resp = client.post("/admin/calendar/confirm", data={"year": str(UNKNOWN), "reason": "  "})
    assert resp.status_code == 422 and "请说明原因" in body(resp)
    assert not cal.year_known(UNKNOWN)

    reason = "国务院办公厅尚未公布放假安排，1月的抽取先按周一至周五计算"
    resp = client.post("/admin/calendar/confirm", data={"year": str(UNKNOWN), "reason": reason})
    assert resp.status_code == 303
    db.session.rollback()
    assert cal.year_known(UNKNOWN) and cal.year_record(UNKNOWN).reason == reason
    (ev,) = events(db, "calendar.year_confirmed")
    assert ev.reason == reason and ev.subject_id == str(UNKNOWN) and ev.actor_name == admin.username
    assert ev.payload == {"year": UNKNOWN, "status": [None, "confirmed"]}
    page = body(client.get(f"/admin/calendar?year={UNKNOWN}"))
    assert f"已确认{UNKNOWN}年暂无节假日安排（原因：{reason}）" in page
    assert "录入国务院办公厅放假通知" in page  # the notice can still be entered later

    again = client.post("/admin/calendar/confirm", data={"year": str(UNKNOWN), "reason": "再次确认"})
    assert again.status_code == 422 and f"{UNKNOWN}年已确认为暂无节假日安排" in body(again)

    # entering the notice later turns the confirmation into an entered year
    review = body(client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "parse"}))
    client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "save", "digest": digest_of(review)})
    db.session.rollback()
    assert cal.year_record(UNKNOWN).status == cal.YEAR_ENTERED
    assert events(db, "calendar.year_entered")[0].payload["status"] == ["confirmed", "entered"]


def test_a_library_year_needs_no_confirmation(client, db, admin, login_as):
    login_as(admin)
    resp = client.post("/admin/calendar/confirm", data={"year": str(LIBRARY), "reason": "测试"})
    assert resp.status_code == 422 and f"系统已内置{LIBRARY}年的节假日安排，无需确认" in body(resp)
    assert count(db, cal.CalendarYear) == 0


@pytest.mark.parametrize("who", ["supervisor", "inspector"])
def test_only_admins_make_a_year_known(request, client, db, login_as, who):
    login_as(request.getfixturevalue(who))
    assert client.post("/admin/calendar/notice", data={"notice": NOTICE, "action": "save"}).status_code == 403
    assert client.post("/admin/calendar/ranges", data={"year": str(UNKNOWN), "action": "save"}).status_code == 403
    assert client.post("/admin/calendar/confirm", data={"year": str(UNKNOWN), "reason": "x"}).status_code == 403
    assert not cal.year_known(UNKNOWN)


# ------------------------------------------------------------------------------------------- the CLI


def test_flask_calendar_confirm(runner, db):
    result = runner.invoke(calendar_cli, ["confirm", str(UNKNOWN), "--reason", "尚未公布，先按周一至周五计算"])
    assert result.exit_code == 0, result.output
    assert f"confirmed {UNKNOWN}" in result.output
    assert cal.year_known(UNKNOWN)
    (ev,) = events(db, "calendar.year_confirmed")
    assert ev.reason == "尚未公布，先按周一至周五计算" and ev.actor_id is None

    again = runner.invoke(calendar_cli, ["confirm", str(UNKNOWN), "--reason", "再次"])
    assert again.exit_code != 0 and "已确认为暂无节假日安排" in again.output
    missing = runner.invoke(calendar_cli, ["confirm", str(UNKNOWN + 1)])
    assert missing.exit_code != 0 and "--reason" in missing.output


def test_flask_calendar_set(runner, db):
    y = UNKNOWN
    result = runner.invoke(
        calendar_cli,
        ["set", str(y), "--holiday", f"{y}-01-01:{y}-01-03", "--holiday", f"{y}-02-06:{y}-02-12",
         "--workday", f"{y}-02-14", "--workday", f"{y}-02-20"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"entered {y}: 10 holidays, 2 working days (12 days changed)" in result.output
    overrides = cal.db_overrides()
    assert len(overrides) == 12 and overrides[D(y, 2, 20)] is True and overrides[D(y, 1, 2)] is False
    assert cal.year_known(y) and cal.period_gate(D(y, 2, 1), D(y, 2, 28)) is None
    (ev,) = events(db, "calendar.year_entered")
    assert ev.payload["source"] == "flask calendar set" and ev.actor_id is None

    status = runner.invoke(calendar_cli, ["status", str(y)])
    assert status.exit_code == 0 and f"{y}: known (entered" in status.output
    unknown = runner.invoke(calendar_cli, ["status", str(y + 1)])
    assert unknown.exit_code == 1 and f"{y + 1}年的节假日安排尚未录入或确认" in unknown.output

    bad = runner.invoke(calendar_cli, ["set", str(y + 1), "--holiday", f"{y + 1}-02-12:{y + 1}-02-06"])
    assert bad.exit_code != 0 and "--holiday" in bad.output and "结束日期早于开始日期" in bad.output
    assert not cal.year_known(y + 1)


# -------------------------------------------------------------------------- the 工作台 warning (partial)


def _warning(app, user, year) -> str:
    with app.test_request_context("/"):
        login_user(user)
        return render_template("admin/_calendar_warning.html", unknown_calendar_year=year)


def test_the_workbench_warning_links_admins_to_the_calendar(app, db, admin, supervisor):
    html = _warning(app, supervisor, UNKNOWN)
    assert f"{UNKNOWN}年的节假日安排尚未录入或确认，该年的抽取计划不能冻结名录。" in html
    assert "请联系系统管理员" in html and "/admin/calendar" not in html
    html = _warning(app, admin, UNKNOWN)
    assert f"/admin/calendar?year={UNKNOWN}#notice" in html
    assert _warning(app, supervisor, None).strip() == ""
