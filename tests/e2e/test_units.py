"""The unit library at phone size: search as you type and filters swap the results in place (htmx)."""

from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_no_horizontal_overflow, assert_touch_targets, login


def result_count(page: Page) -> int:
    text = page.locator("#results .count").inner_text()
    m = re.search(r"共(\d+)个单位", text)
    assert m, f"no count in {text!r}"
    return int(m.group(1))


def mark_page(page: Page) -> None:
    """Put a marker on window: it survives htmx swaps but not a page load."""
    page.evaluate("window.__e2eNoReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__e2eNoReload === true"), "the page was reloaded"


def test_search_filter_and_open_a_unit(page: Page, live_server, shot):
    login(page, live_server, "supervisor")
    page.goto(live_server + "/registry/units")
    total = result_count(page)
    assert total > 20
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("10-units-list")

    # Search as you type: pick a unit further down the list and type a part of its name.
    titles = page.locator("#results ul.units .title")
    name = titles.nth(5).inner_text()
    query = name[-8:]  # the end of its name, typed key by key
    mark_page(page)
    page.locator("#q").press_sequentially(query, delay=20)
    # hx-push-url: the address shows the whole query once the last request is answered (and can be bookmarked).
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote(query))))
    expect(page.locator("#results .count")).not_to_have_text(re.compile(rf"共{total}个单位"))
    assert_not_reloaded(page)
    narrowed = result_count(page)
    assert 1 <= narrowed < total
    expect(titles.filter(has_text=name).first).to_be_visible()
    for uscc_or_text in page.locator("#results ul.units li").all_inner_texts():
        assert query in uscc_or_text
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("11-units-search")

    # Clear the search: the whole list is back.
    page.locator("#q").fill("")
    page.locator("#q").dispatch_event("input")
    expect(page.locator("#results .count")).to_have_text(re.compile(rf"共{total}个单位"))
    # Paging: the next page replaces the list in place.
    first_title = titles.first.inner_text()
    page.get_by_role("link", name="下一页").click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(titles.first).not_to_have_text(first_title)
    assert_not_reloaded(page)
    expect(page.get_by_role("link", name="回到第一页")).to_be_visible()
    page.get_by_role("link", name="回到第一页").click()
    expect(titles.first).to_have_text(first_title)

    # Filter by class: only 九小场所 remain, still without a reload.
    page.locator(".filterbox summary").click()
    page.select_option("#f-class", "nine_small")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"unit_class=nine_small"))
    expect(page.locator("#results .count")).not_to_have_text(re.compile(rf"共{total}个单位"))
    assert_not_reloaded(page)
    nine_small = result_count(page)
    assert 0 < nine_small < total
    tags = page.locator("#results ul.units li .tags")
    assert tags.count() > 0
    for text in tags.all_inner_texts():
        assert "九小场所" in text
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("12-units-filter-nine-small")

    # Open a unit: its detail page shows its name and facts and fits the phone.
    first = page.locator("#results ul.units li a").first
    unit_name = first.locator(".title").inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(unit_name)
    expect(page.locator("dl.facts")).to_contain_text("统一社会信用代码")
    expect(page.locator("dl.facts")).to_contain_text("九小场所")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("13-unit-detail")


def test_choosing_any_filter_applies_it_at_once(page: Page, live_server):
    login(page, live_server, "supervisor")
    page.goto(live_server + "/registry/units")
    page.locator(".filterbox summary").click()
    page.select_option("#f-risk", "red")
    expect(page).to_have_url(re.compile(r"risk=red"), timeout=2_000)
