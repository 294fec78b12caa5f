"""扫码亮证 at 360 px: the inspector shows the inspection's code after check-in; the unit scans it in a browser of
its own (no login, no cookie), sees the inspection is genuine with masked names, and after submission confirms
and rates the visit once and reports a problem. Screenshots: artifacts/e2e/trace-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import ARTIFACTS, assert_no_horizontal_overflow, assert_touch_targets, login

SMALL_PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


def _setup(app):
    from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
    from webapp.auth.models import Role

    org = make_org(code="trace-e2e", name="洛阳市偃师区消防救援大队")
    item = make_item(org, points=["消防设施器材完好有效", "疏散通道畅通"])
    lead_user = make_user(org, role=Role.INSPECTOR, username="trace-lead")
    lead = make_inspector(org, name="李卫国", user=lead_user, cert_no="豫消A0101")
    partner = make_inspector(org, name="赵志刚", cert_no="豫消A0102")
    unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号")
    task = make_task(org, unit, item.current.id, people=[lead, partner])
    make_user(org, role=Role.SUPERVISOR, username="trace-boss")
    return {"task": task.public_id}


def _submit(app, task_public_id: str) -> None:
    from sqlalchemy import select

    from webapp.db import utcnow
    from webapp.extensions import db
    from webapp.inspections.models import CheckResult, Inspection, InspectionStatus, PublishedCategory
    from webapp.tasks.models import Task

    with app.app_context():
        task = db.session.execute(select(Task).where(Task.public_id == task_public_id)).scalar_one()
        insp = db.session.execute(select(Inspection).where(Inspection.task_id == task.id)).scalar_one()
        insp.status, insp.submitted_at = InspectionStatus.SUBMITTED, utcnow()
        insp.result, insp.category = CheckResult.NO_PROBLEM, PublishedCategory.NO_PROBLEM
        db.session.commit()
        db.session.remove()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"trace-{name}.png"), full_page=True, scale="css")


@pytest.fixture(scope="module")
def site(restartable_server):
    return restartable_server(_setup)


def test_show_scan_rate_and_report_at_360px(site, new_context):
    server, data = site
    base = server.base

    # the inspector checks in (开始检查); the record page then shows the code
    phone = new_context(**SMALL_PHONE).new_page()
    login(phone, base, "trace-lead")
    phone.goto(f"{base}/inspections/tasks/{data['task']}")
    phone.get_by_role("button", name="开始检查").click()
    phone.wait_for_url("**/record")
    code = phone.locator("#trace-code")
    expect(code.locator(".qr svg")).to_be_visible()
    url = phone.locator("#trace-url").input_value()
    assert re.fullmatch(re.escape(base) + r"/c/[A-Za-z0-9_-]{32}", url), url
    assert_no_horizontal_overflow(phone)
    code.scroll_into_view_if_needed()
    _shot(phone, "01-record-code")

    # the unit scans it: a browser of its own, no login
    unit_ctx = new_context(**SMALL_PHONE)
    unit = unit_ctx.new_page()
    unit.goto(url)
    expect(unit.locator(".notice-genuine")).to_contain_text("真实有效")
    expect(unit.locator("#genuine")).to_contain_text("检查进行中")
    people = unit.locator("#inspectors")
    expect(people).to_contain_text("李*国")
    expect(people).to_contain_text("豫消A0101")
    expect(people).not_to_contain_text("李卫国")
    expect(unit.locator("#rating-form")).to_have_count(0)
    assert unit_ctx.cookies() == []
    assert_no_horizontal_overflow(unit)
    assert_touch_targets(unit)
    _shot(unit, "02-scan-in-progress")

    # after submission: confirm, rate, and see that it counts once
    _submit(server.app, data["task"])
    unit.reload()
    form = unit.locator("#rating-form")
    form.get_by_label("是，到本单位进行了检查").check()
    form.get_by_label("满意", exact=True).check()
    form.locator("textarea[name=comment]").fill("检查认真，讲解清楚。")
    assert_no_horizontal_overflow(unit)
    assert_touch_targets(unit)
    _shot(unit, "03-rating-form")
    form.get_by_role("button", name="提交评价").click()
    expect(unit.locator("#feedback")).to_contain_text("感谢您的评价")
    expect(unit.locator("#feedback")).to_contain_text("本次检查已评价")
    expect(unit.locator("#rating-form")).to_have_count(0)

    # a report of misconduct goes to the supervisors
    report = unit.locator("#report-form")
    report.locator("textarea[name=text]").fill("检查人员要求购买指定品牌的灭火器。")
    report.get_by_role("button", name="提交").click()
    expect(unit.locator("#feedback")).to_contain_text("已转交监督机关")
    assert unit_ctx.cookies() == []
    _shot(unit, "04-after-feedback")

    boss = new_context(**SMALL_PHONE).new_page()
    login(boss, base, "trace-boss")
    boss.goto(f"{base}/trace/feedback?kind=report")
    expect(boss.locator("#feedback-list")).to_contain_text("指定品牌的灭火器")
    assert_no_horizontal_overflow(boss)
    _shot(boss, "05-supervisor-reports")
    boss.goto(f"{base}/trace/feedback?kind=rating")
    expect(boss.locator("#feedback-list")).to_contain_text("检查认真")
