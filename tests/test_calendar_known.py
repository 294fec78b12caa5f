"""A known calendar before any draw: the State Council's notice read into days, and which years are known.

A year is known when the holiday library knows it, or an administrator entered its holidays or confirmed it as
"no holidays known yet". Nothing here depends on today's date: every "today" is passed in.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from webapp import calendar as cal
from webapp.admin import services
from webapp.calendar_notice import parse_notice, parse_ranges, parse_span

D = dt.date

# The real notice for 2026 (国办发明电〔2025〕7号), as published on the State Council's site.
NOTICE_2026 = """国务院办公厅关于2026年部分节假日安排的通知
国办发明电〔2025〕7号

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2026年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置，确保人民群众祥和平安度过节日假期。

国务院办公厅
2025年11月4日
"""

# The real notice for 2025 (国办发明电〔2024〕12号): a single day without 调休, a range across months, and a
# combined 国庆节、中秋节 item; pasted the way a browser copies it (one line, no title).
NOTICE_2025 = (
    "一、元旦：1月1日（周三）放假1天，不调休。"
    "二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。"
    "三、清明节：4月4日（周五）至6日（周日）放假，共3天。"
    "四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。"
    "五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。"
    "六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。"
)


def library_days(year: int) -> tuple[set[dt.date], set[dt.date]]:
    """The holiday library's holidays and 调休 working days of ``year``."""
    holidays = {d for d in chinese_calendar.holidays if d.year == year}
    workdays = {d for d in chinese_calendar.workdays if d.year == year}
    return holidays, workdays


# The first year after 2025 that the holiday library does not know (2027 with chinesecalendar 1.11.0).
UNKNOWN = next(y for y in range(2026, 2100) if not cal.library_knows(y))
LIBRARY = UNKNOWN - 1


# ------------------------------------------------------------------------------------------------ the parser


def test_the_2026_notice_reads_exactly_as_the_holiday_library_has_it():
    parsed = parse_notice(NOTICE_2026)
    assert parsed.errors == {} and parsed.warnings == []
    assert parsed.year == 2026
    assert parsed.source == "国务院办公厅关于2026年部分节假日安排的通知"
    holidays, workdays = library_days(2026)
    assert set(parsed.holidays) == holidays
    assert set(parsed.workdays) == workdays


def test_each_2026_item_names_its_holiday_and_line():
    parsed = parse_notice(NOTICE_2026)
    by_day = {d.day: d for d in parsed.days}
    assert [d for d in parsed.holidays if by_day[d].holiday == "元旦"] == [D(2026, 1, 1), D(2026, 1, 2), D(2026, 1, 3)]
    spring = [d for d in parsed.holidays if by_day[d].holiday == "春节"]
    assert spring[0] == D(2026, 2, 15) and spring[-1] == D(2026, 2, 23) and len(spring) == 9
    assert [d for d in parsed.workdays if by_day[d].holiday == "春节"] == [D(2026, 2, 14), D(2026, 2, 28)]
    assert by_day[D(2026, 2, 14)].note == "春节调休上班"
    assert by_day[D(2026, 5, 9)].is_workday and by_day[D(2026, 5, 9)].holiday == "劳动节"
    national = [d for d in parsed.holidays if by_day[d].holiday == "国庆节"]
    assert national == [D(2026, 10, d) for d in range(1, 8)]
    assert [d for d in parsed.workdays if by_day[d].holiday == "国庆节"] == [D(2026, 9, 20), D(2026, 10, 10)]
    assert by_day[D(2026, 10, 1)].line.startswith("七、国庆节：10月1日（周四）至7日（周三）放假调休")
    assert by_day[D(2026, 10, 1)].note == "国庆节"


def test_the_2025_notice_with_a_year_field_spans_months_and_joins_holidays():
    parsed = parse_notice(NOTICE_2025, "2025")
    assert parsed.errors == {} and parsed.warnings == []
    holidays, workdays = library_days(2025)
    assert set(parsed.holidays) == holidays
    assert set(parsed.workdays) == workdays
    by_day = {d.day: d for d in parsed.days}
    assert [D(2025, 5, 31), D(2025, 6, 1), D(2025, 6, 2)] == [d for d in parsed.holidays if d.month in (5, 6)][-3:]
    assert by_day[D(2025, 10, 8)].holiday == "国庆节、中秋节"
    assert by_day[D(2025, 1, 1)].holiday == "元旦" and not by_day[D(2025, 1, 1)].is_workday


def test_older_wordings_with_explicit_years_and_buxiu():
    parsed = parse_notice(
        "国务院办公厅关于2012年部分节假日安排的通知\n"
        "一、元旦：2012年1月1日至3日放假调休，共3天。2011年12月31日（星期六）上班。\n"
        "三、清明节：4月5日放假，4月6日（星期一）补休。\n"
        "六、中秋节、国庆节：9月30日至10月7日放假调休，共8天。9月29日（星期六）上班。"
    )
    assert parsed.errors == {}
    assert parsed.workdays == [D(2011, 12, 31), D(2012, 9, 29)]
    assert D(2012, 1, 3) in parsed.holidays and D(2012, 4, 6) in parsed.holidays
    autumn = [D(2012, 9, 30)] + [D(2012, 10, d) for d in range(1, 8)]
    assert [d for d in parsed.holidays if d.month in (9, 10)] == autumn


def test_the_year_comes_from_the_title_or_the_field_and_they_must_agree():
    assert parse_notice(NOTICE_2025).errors == {"year": "通知中没有找到“关于××××年部分节假日安排的通知”，请填写年份"}
    assert parse_notice(NOTICE_2026, "2027").errors == {"year": "与通知标题中的年份（2026年）不一致"}
    assert parse_notice(NOTICE_2026, "2026").errors == {}
    assert "请填写2000–2100之间的年份" in parse_notice(NOTICE_2025, "二〇二五").errors["year"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请粘贴国务院办公厅放假通知的全文"),
        ("春节放假七天", "没有找到“一、元旦：……”这样的条目"),
        ("二、春节：2月30日至3月2日放假调休，共3天。", "日期“2月30日”不存在"),
        ("二、春节：2月6日至12日放假调休，共7天。2月6日（周六）上班。", "2027-02-06既被列为放假又被列为上班"),
        ("二、春节：2月6日至12日，共7天。", "无法判断"),
        ("七、国庆节：10月1日至3月7日放假。", "结束日期早于开始日期"),
    ],
)
def test_what_cannot_be_read_is_said_in_chinese(text, message):
    parsed = parse_notice(text, "2027")
    assert message in parsed.errors.get("notice", "")
    assert not parsed.ok


def test_a_total_that_does_not_add_up_is_a_warning_in_the_review():
    parsed = parse_notice("二、春节：2月6日至12日放假调休，共8天。2月14日（周日）上班。", "2027")
    assert parsed.errors == {} and parsed.ok
    assert parsed.warnings == ["“春节”：通知写“共8天”，但解析出7天放假，请核对"]
    assert parsed.holidays == [D(2027, 2, d) for d in range(6, 13)] and parsed.workdays == [D(2027, 2, 14)]


def test_ranges_typed_by_hand():
    parsed = parse_ranges(
        "2027", ["2027-02-06:2027-02-12 春节", "2027-10-01至2027-10-07 国庆节", "2027-01-01"], ["2027-02-14"]
    )
    assert parsed.errors == {}
    assert len(parsed.holidays) == 15 and parsed.workdays == [D(2027, 2, 14)]
    assert {d.note for d in parsed.days} == {"春节", "国庆节", "放假", "调休上班"}
    bad = parse_ranges("2027", ["2027-02-12:2027-02-06", "2026-12-31"], ["2027-2-30"])
    assert "结束日期早于开始日期" in bad.errors["holidays"] and "不在2027年内" in bad.errors["holidays"]
    assert "日期不存在" in bad.errors["workdays"]
    assert parse_ranges("2027", [], []).errors == {"holidays": "请至少填写一个放假日期或调休上班日期"}
    assert parse_span("2027-1-1:2027-1-3") == (D(2027, 1, 1), D(2027, 1, 3), "")


# ------------------------------------------------------------------------------------- which years are known


def test_a_library_year_is_known_without_anything_entered(db):
    assert cal.library_knows(LIBRARY) and cal.year_known(LIBRARY)
    assert cal.unknown_years(D(LIBRARY, 1, 1), D(LIBRARY, 12, 31)) == []
    assert cal.period_gate(D(LIBRARY, 12, 1), D(LIBRARY, 12, 31)) is None


def test_an_unknown_year_blocks_every_period_that_touches_it(db):
    assert not cal.year_known(UNKNOWN)
    assert cal.unknown_years(D(LIBRARY, 12, 1), D(UNKNOWN, 1, 31)) == [UNKNOWN]
    assert cal.unknown_years(D(UNKNOWN, 1, 1), D(UNKNOWN + 1, 1, 31)) == [UNKNOWN, UNKNOWN + 1]
    assert cal.period_gate(D(UNKNOWN, 1, 1), D(UNKNOWN, 1, 31)) == (
        f"{UNKNOWN}年的节假日安排尚未录入或确认：请管理员在“工作日历”中录入国务院办公厅的放假通知，或确认暂无安排"
    )
    assert cal.period_gate(D(UNKNOWN, 12, 1), D(UNKNOWN + 1, 1, 31)).startswith(
        f"{UNKNOWN}年、{UNKNOWN + 1}年的节假日安排尚未录入或确认"
    )
    assert cal.period_gate(D(LIBRARY, 12, 1), D(LIBRARY, 12, 31)) is None


def test_an_entered_year_is_known(db):
    parsed = parse_notice(NOTICE_2026.replace("2026年部分", f"{UNKNOWN}年部分"))
    assert parsed.year == UNKNOWN and parsed.ok
    services.enter_year(None, parsed)
    db.session.commit()
    assert cal.year_known(UNKNOWN)
    assert cal.period_gate(D(UNKNOWN, 1, 1), D(UNKNOWN, 1, 31)) is None
    assert cal.unknown_years(D(UNKNOWN, 12, 1), D(UNKNOWN + 1, 1, 31)) == [UNKNOWN + 1]
    overrides = cal.db_overrides()
    assert overrides[D(UNKNOWN, 10, 1)] is False and overrides[D(UNKNOWN, 10, 10)] is True
    assert D(UNKNOWN, 1, 1) not in cal.working_days_of_month(UNKNOWN, 1, overrides)


def test_a_confirmed_year_is_known(db):
    services.confirm_year(None, UNKNOWN, "国务院办公厅尚未公布放假安排，先按周一至周五计算")
    db.session.commit()
    assert cal.year_known(UNKNOWN)
    assert cal.period_gate(D(UNKNOWN, 1, 1), D(UNKNOWN, 2, 28)) is None
    assert cal.year_record(UNKNOWN).status == cal.YEAR_CONFIRMED


def test_the_workbench_warns_from_november_for_the_next_year(db):
    assert cal.upcoming_unknown_year(D(LIBRARY, 10, 31)) is None
    assert cal.upcoming_unknown_year(D(LIBRARY, 11, 1)) == UNKNOWN
    assert cal.upcoming_unknown_year(D(LIBRARY, 12, 31)) == UNKNOWN
    assert cal.upcoming_unknown_year(D(UNKNOWN, 3, 1)) == UNKNOWN  # still unknown when it has begun
    services.confirm_year(None, UNKNOWN, "尚未公布")
    db.session.commit()
    assert cal.upcoming_unknown_year(D(LIBRARY, 12, 31)) is None
    assert cal.upcoming_unknown_year(D(UNKNOWN, 3, 1)) is None
    assert cal.upcoming_unknown_year(D(UNKNOWN, 11, 2)) == UNKNOWN + 1
