"""The supervisor dashboard at phone and desktop size, and the public pages walked anonymously at 360 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ARTIFACTS, assert_no_horizontal_overflow, assert_touch_targets, login
from webapp import calendar

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SECTIONS = ("month", "cannot-go", "draws", "coverage", "results", "analysis", "orders", "signs")


def snap(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # else the fixed top bar lands mid-image in a full-page shot
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, scale="css")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_dashboard_charts_and_tables(new_page, live_server, size):
    page = new_page(PHONE if size == "phone" else DESKTOP)
    width = 360 if size == "phone" else 1280
    login(page, live_server, "supervisor")
    page.goto(live_server + "/dashboard/")
    for section in SECTIONS:
        card = page.locator(f"section#{section}")
        expect(card).to_be_visible()
        expect(card.locator("h2")).to_be_visible()
    charts = page.locator(".dash svg.chart")
    assert charts.count() >= 3, "the dashboard draws its charts"
    for i in range(charts.count()):
        chart = charts.nth(i)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20, f"chart {i} is too small: {box}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"chart {i} sticks out of the viewport: {box}"
    # Every chart's data table is behind a <details>; open each and the table shows.
    tables = page.locator(".dash details:has(table)")
    assert tables.count() >= 5
    for i in range(tables.count()):
        details = tables.nth(i)
        expect(details.locator("table")).to_be_hidden()
        details.locator("summary").click()
        expect(details.locator("table")).to_be_visible()
        assert details.locator("tbody tr").count() >= 1
    assert_no_horizontal_overflow(page)
    if size == "phone":
        assert_touch_targets(page)
    snap(page, f"60-dashboard-{size}")


def test_public_pages_anonymous_at_360(new_page, live_server):
    page = new_page(PHONE)

    def check(name: str) -> None:
        assert_no_horizontal_overflow(page)
        assert_touch_targets(page)
        snap(page, name)

    page.goto(live_server + "/public/")
    expect(page.locator("h1")).to_be_visible()
    check("61-public-index")

    page.locator("a.btn", has_text="随机抽查事项清单").click()
    expect(page).to_have_url(live_server + "/public/items")
    check("62-public-items")

    page.goto(live_server + "/public/")
    page.locator("a.btn", has_text="年度抽查计划").click()
    expect(page).to_have_url(live_server + "/public/plans")
    check("63-public-plans")

    page.goto(live_server + "/public/")
    page.locator("a.btn", has_text="已公布的抽取结果").click()
    expect(page).to_have_url(live_server + "/public/draws")
    check("64-public-draws")

    # The demo's published draw for this month.
    published = page.locator("ul.list a").filter(has=page.locator(".tag.green"))
    assert published.count() >= 1, "the demo has a published draw"
    published.first.click()
    expect(page.locator("ol.pub-tasks")).to_be_visible()
    check("65-public-draw")
    who = page.locator("ol.pub-tasks ul.who li").all_inner_texts()
    assert who, "the draw lists inspectors"
    for line in who:
        name = line.rsplit("：", 1)[-1]
        assert "*" in name, f"inspector name not masked on the public draw page: {line!r}"
    unit = page.locator("ol.pub-tasks > li .title").first.inner_text().split(". ", 1)[1].strip()

    page.goto(live_server + "/public/results")
    page.fill("#q", unit)
    page.locator("form.search button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/public/results\?.*q="))
    expect(page.locator("#q")).to_have_value(unit)
    rows = page.locator("ul.list > li .title")
    if rows.count():
        for title in rows.all_inner_texts():
            assert unit in title
    else:
        expect(page.get_by_text("没有找到符合条件的检查结果。")).to_be_visible()
    check("66-public-results")

    page.goto(live_server + "/public/")
    page.locator("a.btn", has_text="如何核验一次抽取").click()
    expect(page).to_have_url(live_server + "/public/verify")
    expect(page.locator("a.btn", has_text="下载核验程序")).to_be_visible()
    check("67-public-verify")

    page.goto(live_server + "/public/")
    page.locator("a.btn", has_text="查验整改通知书").click()
    page.fill("#number", "偃消限字〔2026〕第9999号")
    page.fill("#uscc", "91410000MA00000000")
    page.locator("button", has_text="查验").click()
    expect(page.locator("[role=alert]")).to_contain_text("未找到")
    expect(page.locator("#uscc")).to_have_value("91410000MA00000000")
    check("70-public-notice-check")

    assert page.context.cookies() == [], "public pages must not set cookies"


def test_export_with_period_and_progress_then_download_at_360(new_page, live_server):
    page = new_page({**PHONE, "accept_downloads": True})
    login(page, live_server, "supervisor")
    page.goto(live_server + "/dashboard/#exports")
    card = page.locator("section#exports")
    today = calendar.today()  # the demo's data is built around today; the export is of this month
    card.locator("select[name=month]").select_option(label=f"{today.month}月")
    card.locator("button[name=kind][value=tasks]").click()
    # the job page: a progress bar while it runs, then the download button
    expect(page.locator("progress, a:has-text('下载')").first).to_be_visible()
    download_button = page.locator("a:has-text('下载')")
    expect(download_button).to_be_visible(timeout=15_000)
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    snap(page, "68-export-job")
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename.endswith(f"-{today:%Y%m}.xlsx"), download.suggested_filename
    import io
    import pathlib

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(pathlib.Path(download.path()).read_bytes()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) >= 2, "the demo's tasks of this month are in the file"


def test_publication_page_at_360(new_page, live_server):
    page = new_page(PHONE)
    login(page, live_server, "supervisor")
    page.goto(live_server + "/publication/")
    expect(page.locator("h1")).to_have_text(re.compile("公示管理"))
    expect(page.get_by_text("公示前审核").first).to_be_visible()
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    snap(page, "69-publication")
