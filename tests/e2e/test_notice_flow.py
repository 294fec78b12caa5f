"""From a submitted inspection with problems to the notice a unit can check, at phone size.

The inspector issues a 《责令限期改正通知书》, sees its number and QR code, and downloads the PDF; the URL
beside the QR code, opened in a fresh anonymous browser, shows the public verification page with masked
names; 我的任务 then counts down the working days to the deadline. The on-site flow up to submitting is
covered by test_inspection.py; here the submitted inspection is set up directly so the test stays short.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ARTIFACTS, assert_no_horizontal_overflow, assert_touch_targets, login

PROBLEMS = [
    ("疏散通道堆放杂物，安全管理人周建军未及时清理", "《中华人民共和国消防法》第二十八条"),
    ("灭火器压力不足", "《中华人民共和国消防法》第十六条第一款第二项"),
]


def _schema_ready(app) -> bool:
    from sqlalchemy import inspect

    from webapp.extensions import db

    with app.app_context():
        return inspect(db.engine).has_table("rectification_order")


@pytest.fixture(scope="module")
def site():
    """A live server with one submitted inspection (result 责令限期改正) and its findings.

    On E2E_DATABASE_URL (shared with the session's demo server) the schema is only built when missing and the
    rows use fresh names, so the demo data other browser tests rely on is left alone.
    """
    from werkzeug.serving import make_server

    from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
    from tests.helpers import reset_schema
    from webapp import create_app
    from webapp.auth.models import Role
    from webapp.catalog.models import ItemVersion
    from webapp.db import utcnow
    from webapp.extensions import db
    from webapp.inspections.models import CheckResult, Finding, Inspection, InspectionStatus, PublishedCategory
    from webapp.tasks.models import TaskStatus

    tmp = tempfile.mkdtemp(prefix="suijian-e2e-notice-")
    shared = os.environ.get("E2E_DATABASE_URL")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": shared or "sqlite:///" + os.path.join(tmp, "e2e.db"),
            "RATELIMIT_ENABLED": False,
            "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
        }
    )
    if not shared or not _schema_ready(app):
        reset_schema(app)
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        org = make_org(code=f"notice-{tag}", name="偃师区消防救援大队")
        org.short_name = "偃消"
        item = make_item(org, points=["消防设施器材完好有效", "疏散通道畅通"])
        version = db.session.query(ItemVersion).filter_by(item_id=item.id).one()
        lead_user = make_user(org, role=Role.INSPECTOR, username=f"lead-{tag}")
        lead = make_inspector(org, name="李卫国", user=lead_user)
        partner = make_inspector(org, name="赵志刚")
        unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", safety_person="周建军")
        task = make_task(org, unit, version.id, people=[lead, partner])
        task.status = TaskStatus.SUBMITTED
        inspection = Inspection(
            client_uuid=str(uuid.uuid4()),
            task_id=task.id,
            org_id=org.id,
            status=InspectionStatus.SUBMITTED,
            result=CheckResult.DEADLINE,
            category=PublishedCategory.ORDERED_RECTIFY,
            submitted_at=utcnow(),
            submitted_by_id=lead_user.id,
        )
        db.session.add(inspection)
        db.session.flush()
        for seq, (text, basis) in enumerate(PROBLEMS, start=1):
            db.session.add(Finding(inspection_id=inspection.id, seq=seq, text=text, legal_basis=basis))
        db.session.commit()
        ids = {"inspection": inspection.id, "lead": lead_user.username}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", **ids}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def test_issue_notice_scan_qr_and_download_pdf(page: Page, new_context, browser_context_args, site, shot):
    base = site["base"]
    login(page, base, site["lead"])

    # issue the order: the form is prefilled with the inspection's findings and their legal basis
    page.goto(f"{base}/notices/new/{site['inspection']}")
    expect(page.locator("#issue-form textarea").first).to_have_value(PROBLEMS[0][0])
    expect(page.get_by_label("责令限期改正", exact=True)).to_be_checked()
    page.fill("input[name=deadline_days]", "10")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("notice-01-issue-form")
    page.get_by_role("button", name="制发文书并编号").click()
    page.wait_for_url(re.compile(r".*/notices/\d+$"))

    # the notice page: title, number, status, QR code and the verification URL beside it
    expect(page.locator("h1.notice-title")).to_have_text("责令限期改正通知书")
    number = page.locator(".notice-number").inner_text().strip()
    assert re.fullmatch(r"偃消限字〔\d{4}〕第0001号", number), number
    expect(page.locator(".notice-print")).to_contain_text("周建军")  # the unit's copy carries full names
    expect(page.locator(".notice-qr .qr svg")).to_be_visible()
    verify_url = page.locator(".notice-qr a").get_attribute("href")
    assert re.fullmatch(re.escape(base) + r"/v/[A-Za-z0-9_-]{20,}", verify_url), verify_url
    deadline = re.search(r"于(\d{4}-\d{2}-\d{2})前改正", page.locator(".notice-print").inner_text()).group(1)
    assert_no_horizontal_overflow(page)
    shot("notice-02-notice")

    # the PDF downloads as a PDF
    pdf_href = page.get_by_role("link", name="下载PDF").get_attribute("href")
    resp = page.request.get(base + pdf_href)
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("application/pdf")
    assert resp.body().startswith(b"%PDF")

    # the QR code's URL, opened by anyone: a fresh browser context without the inspector's session
    anon = new_context(**browser_context_args)
    try:
        public = anon.new_page()
        response = public.goto(verify_url)
        assert response.status == 200
        expect(public.locator("body")).to_contain_text("本文书由本系统出具，真实有效")
        expect(public.locator(".code").first).to_have_text(number)
        facts = public.locator("dl.facts")
        expect(facts).to_contain_text("洛阳好运来超市")
        expect(facts).to_contain_text("偃师区消防救援大队")
        expect(facts).to_contain_text(deadline)
        expect(public.locator(".tags")).to_contain_text("整改中")  # pending
        text = public.locator("body").inner_text()
        for full in ("李卫国", "赵志刚", "周建军"):
            assert full not in text, f"{full} is shown unmasked on the public page"
        assert "李*" in text and "赵*" in text  # the inspectors, masked
        assert "灭火器压力不足" in text
        assert anon.cookies() == []  # the public page sets no cookie
        assert_no_horizontal_overflow(public)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        public.screenshot(path=str(ARTIFACTS / "notice-03-verify.png"), full_page=True, scale="css")
    finally:
        anon.close()

    # 我的任务: the task now shows the deadline and the working days left, and opens the notice
    page.goto(base + "/me")
    expect(page.locator(".tasks .deadline")).to_contain_text(f"整改期限 {deadline}")
    expect(page.locator(".tasks .deadline")).to_contain_text("还剩10个工作日")
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("notice-04-my-tasks")
    page.get_by_role("link", name="整改文书").click()
    expect(page.locator(".notice-number")).to_have_text(number)
