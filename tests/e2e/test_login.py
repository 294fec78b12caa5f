"""Logging in at phone size: a demo supervisor lands on the unit library; a wrong password is refused."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_no_horizontal_overflow, assert_touch_targets, login
from webapp.demo import DEMO_PASSWORD


def test_wrong_password_shows_chinese_error_and_keeps_username(page: Page, live_server, shot):
    page.goto(live_server + "/login")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    shot("01-login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    expect(page.locator("input[name=username]")).to_have_value("supervisor")
    expect(page.locator("input[name=password]")).to_have_value("")
    assert page.url.endswith("/login")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("02-login-wrong-password")


def test_demo_supervisor_logs_in_and_lands_on_home(page: Page, live_server, shot):
    login(page, live_server, "supervisor", DEMO_PASSWORD)
    # A supervisor's home is the 工作台 with the draw reminder; the top bar shows who is logged in and where.
    expect(page).to_have_url(live_server + "/")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.locator(".due")).to_contain_text("抽取应在")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("03-home")
    expect(page.locator(".topbar .who")).to_contain_text("偃师")
    page.get_by_label("菜单").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="执法检查人员名录库")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("04-home-menu-open")
