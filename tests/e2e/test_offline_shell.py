"""The phone keeps the day's pack and an outbox: an inspector opens 我的任务 online, loses the signal, still opens
我的任务, the task and the record from the phone, changes an answer (本机已存, counted in the banner), and when the
signal returns the change is sent by itself (已同步) and is in the database.

Selectors and states are the ones described at the top of static/js/offline.js.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tempfile
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ARTIFACTS, CHROMIUM, assert_no_horizontal_overflow, login, set_browser_clock, sign_on_pad
from tests.helpers import DEMO_PASSWORD

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-sync"]
PACK_META = "/offline/__pack_meta__"  # written by static/sw.js after a pack refresh


@pytest.fixture(scope="module")
def site():
    from werkzeug.serving import make_server

    from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
    from tests.helpers import reset_schema
    from webapp import create_app
    from webapp.auth.models import Role
    from webapp.catalog.models import ItemVersion
    from webapp.extensions import db

    tmp = tempfile.mkdtemp(prefix="suijian-e2e-offline-shell-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(tmp, "e2e.db"),
            "RATELIMIT_ENABLED": False,
            "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
        }
    )
    reset_schema(app)
    with app.app_context():
        org = make_org(name="偃师区消防救援大队")
        item = make_item(org, points=["消防设施器材完好有效", "疏散通道畅通", "安全出口未上锁"])
        version = db.session.query(ItemVersion).filter_by(item_id=item.id).one()
        lead = make_inspector(org, name="李卫国", user=make_user(org, role=Role.INSPECTOR, username="offline-lead"))
        unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", contact_phone="13800138000")
        task = make_task(org, unit, version.id, people=[lead])
        other = make_unit(org, name="偃师区华夏宾馆", address="偃师区华夏路6号")
        whole = make_task(org, other, version.id, people=[lead])
        third = make_task(org, make_unit(org, name="偃师区一中食堂"), version.id, people=[lead])
        db.session.commit()
        public_id, whole_id, third_id = task.public_id, whole.public_id, third.public_id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {
        "base": f"http://127.0.0.1:{server.server_port}",
        "task": public_id,
        "whole": whole_id,
        "third": third_id,
        "app": app,
    }
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def phone(playwright):
    """A page at iPhone 13 size (390×844, touch, zh-CN) in a browser of its own.

    The iPhone's user agent is given to the whole browser: Playwright's per-context override does not reach the
    service worker's script request, and the login's "strong" session protection drops the session when one
    request of it arrives with another user agent. (conftest's ``new_context`` also drops pytest-playwright's
    context defaults, so the plain ``page`` fixture would open at 1280×720.)
    """
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*LAUNCH_ARGS, f"--user-agent={device['user_agent']}"]
    )
    context = set_browser_clock(browser.new_context(**device, locale="zh-CN"))
    yield context.new_page()
    context.close()
    browser.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, scale="css")


def _wait_for_pack(page: Page) -> None:
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15000)
    page.wait_for_function(f"caches.match('{PACK_META}').then(r => !!r)", polling=300, timeout=20000)


def _stored_answers(app, public_id: str) -> list[tuple[str | None, str | None]]:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.inspections.models import ChecklistAnswer, Inspection
    from webapp.tasks.models import Task

    with app.app_context():
        rows = db.session.execute(
            select(ChecklistAnswer.answer, ChecklistAnswer.note)
            .join(Inspection, ChecklistAnswer.inspection_id == Inspection.id)
            .join(Task, Inspection.task_id == Task.id)
            .where(Task.public_id == public_id)
            .order_by(ChecklistAnswer.point_id)
        ).all()
        db.session.remove()
        return [(r[0].value if r[0] else None, r[1]) for r in rows]


def test_pack_and_an_answer_made_offline(phone: Page, site):
    page, base, pid = phone, site["base"], site["task"]
    assert page.viewport_size == {"width": 390, "height": 664}
    task_url, record_url = f"{base}/inspections/tasks/{pid}", f"{base}/inspections/tasks/{pid}/record"
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 34.7272, "longitude": 112.7878, "accuracy": 15})

    # online: 我的任务 registers the worker and keeps the day's pack; the banner says when
    login(page, base, "offline-lead")
    page.goto(base + "/me")
    _wait_for_pack(page)
    page.reload()
    expect(page.locator("[data-banner=updated]")).to_contain_text("离线数据更新于")

    # check in online: the check-in goes through the outbox and lands on the record page
    page.goto(task_url)
    page.click("#checkin button[type=submit]")
    page.wait_for_url(record_url, timeout=20000)
    expect(page.locator("li[data-point-id]").first).to_be_visible()
    # the record as it is now replaces the pack's empty draft (network-first keeps pack pages fresh)
    page.reload()

    # no signal: 我的任务, the task and the record still open, from the phone
    page.context.set_offline(True)
    page.goto(base + "/me")
    expect(page.locator("h1")).to_have_text("我的任务")
    expect(page.locator("#offline-banner")).to_have_attribute("data-offline-state", "offline")
    expect(page.locator("[data-banner=offline]")).to_be_visible()
    expect(page.get_by_text("洛阳好运来超市")).to_be_visible()
    _shot(page, "offline-shell-me-offline")
    assert_no_horizontal_overflow(page)
    page.goto(task_url)
    expect(page.locator("h1")).to_have_text("洛阳好运来超市")
    expect(page.get_by_text("偃师区商都路18号")).to_be_visible()
    page.goto(base + "/offline/import")  # a page the pack does not hold: the shell says so
    expect(page.locator("main")).to_contain_text("此页面未保存在本机，联网后可打开")
    page.goto(record_url)
    point = page.locator("li[data-point-id]").nth(2)

    # an answer changed offline: kept on the phone, shown as such, counted in the banner
    point.locator("label.ans", has_text="不符合").click()
    point.locator("textarea[name=note]").fill("三楼安全出口上锁")
    point.locator("textarea[name=note]").blur()
    expect(point.locator("[data-sync-state]")).to_have_attribute("data-state", "queued", timeout=10000)
    expect(point.locator("[data-sync-state]")).to_have_text("本机已存")
    expect(page.locator("[data-banner=pending]")).to_have_text("1 项修改未同步", timeout=10000)
    _shot(page, "offline-shell-answer-queued")
    assert_no_horizontal_overflow(page)
    assert _stored_answers(site["app"], pid) == []

    # reloaded without signal, the record shows the queued answer again (the overlay)
    page.reload()
    point = page.locator("li[data-point-id]").nth(2)
    expect(point.locator("input[name=answer][value=fails]")).to_be_checked()
    expect(point.locator("textarea[name=note]")).to_have_value("三楼安全出口上锁")
    expect(point.locator("[data-sync-state]")).to_have_text("本机已存")

    # 我的任务 marks the task whose change is still on the phone
    page.goto(base + "/me")
    expect(page.locator(f"li[data-offline-record$='{pid}/record'] [data-task-pending]")).to_have_text(
        "本机有 1 项未同步"
    )
    page.goto(record_url)
    point = page.locator("li[data-point-id]").nth(2)

    # the signal returns: sent by itself, 已同步, and the database holds exactly what the screen showed
    page.context.set_offline(False)
    expect(point.locator("[data-sync-state]")).to_have_text("已同步", timeout=20000)
    expect(page.locator("[data-banner=pending]")).to_be_hidden()
    expect(page.locator("#offline-banner")).to_have_attribute("data-offline-state", "online")
    _shot(page, "offline-shell-answer-synced")
    assert _stored_answers(site["app"], pid) == [("fails", "三楼安全出口上锁")]

    # 本机数据: storage, the answer to the persistence request (headless Chromium may say either), the queue
    page.goto(base + "/offline/device")
    expect(page.locator("#device-storage")).to_contain_text("已用")
    expect(page.locator("#device-persist")).to_have_attribute("data-persisted", re.compile("true|false"))
    expect(page.locator("#device-persist")).to_contain_text(re.compile("已获准|未获准"))
    expect(page.locator("#device-queue li[data-state=synced]")).to_have_count(2)  # the check-in and the answer
    _shot(page, "offline-shell-device")
    assert_no_horizontal_overflow(page)

    # logout drops the cached pages (the next person on this phone), never the outbox
    page.locator(".menu summary").click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login**")
    names = page.evaluate("caches.keys()")
    assert not [n for n in names if n.startswith("suijian-pages-")], names
    assert len(_outbox(page)) == 2


def _jpeg(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (3000, 2000), color).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def _outbox(page: Page) -> list[dict]:
    """The phone's outbox, read with the plain IndexedDB API (the login page does not load idb)."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
             const req = indexedDB.open("suijian");
             req.onerror = () => reject(req.error);
             req.onsuccess = () => {
               const all = req.result.transaction("outbox").objectStore("outbox").index("seq").getAll();
               all.onsuccess = () => resolve(all.result.map(e => ({id: e.id, key: e.key, kind: e.kind,
                 state: e.state, ref: e.ref, error: e.error, sha: (e.files[0] || {}).sha256 || null})));
             };
           })"""
    )


def test_a_whole_inspection_offline_arrives_as_shown(phone: Page, site):
    """Check-in, answers, a finding with two photos, result, two signatures and submit, all without signal."""
    from webapp.extensions import db
    from webapp.inspections.models import Inspection, InspectionStatus
    from webapp.tasks.models import Task

    page, base, pid = phone, site["base"], site["whole"]
    task_url, record_url = f"{base}/inspections/tasks/{pid}", f"{base}/inspections/tasks/{pid}/record"
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 34.7272, "longitude": 112.7878, "accuracy": 15})
    page.on("dialog", lambda d: d.accept())
    login(page, base, "offline-lead")
    page.goto(base + "/me")
    _wait_for_pack(page)

    page.context.set_offline(True)
    page.goto(task_url)
    page.get_by_role("button", name="开始检查").click()
    page.wait_for_url(record_url, timeout=20000)  # the pack's empty draft
    expect(page.locator("h1")).to_have_text("现场检查记录")
    # back on the task page (from the pack) the check-in shows as made on the phone
    page.goto(task_url)
    expect(page.locator("#checkin-offline")).to_contain_text("检查已开始（本机已存）")
    expect(page.locator("#checkin")).to_be_hidden()
    page.locator("#checkin-offline a").click()
    page.wait_for_url(record_url)
    points = page.locator("li[data-point-id]")
    points.nth(0).locator("label.ans", has_text="符合").first.click()
    points.nth(1).locator("label.ans", has_text="不符合").click()
    points.nth(1).locator("textarea[name=note]").fill("疏散通道堆放纸箱")
    points.nth(1).locator("textarea[name=note]").blur()
    points.nth(2).locator("label.ans", has_text="不适用").click()

    page.fill("#findings textarea[name=text]", "疏散通道堆放杂物")
    page.fill("#findings input[name=legal_basis]", "《中华人民共和国消防法》第二十八条")
    page.get_by_role("button", name="添加问题").click()
    pending = page.locator("li[data-pending]")
    expect(pending).to_have_count(1)
    expect(pending.locator("[data-field=text]")).to_have_text("疏散通道堆放杂物")
    pending.locator("input[type=file]").set_input_files(
        files=[
            {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((180, 40, 40))},
            {"name": "b.jpg", "mimeType": "image/jpeg", "buffer": _jpeg((40, 40, 180))},
        ]
    )
    expect(pending.locator("img[data-pending-photo]")).to_have_count(2, timeout=15000)

    page.select_option("select[name=result]", "deadline")
    page.select_option("select[name=category]", "ordered_rectify")
    page.fill("#signer_name", "王经理")
    sign_on_pad(page)
    page.get_by_role("button", name="确认签字").click()
    expect(page.locator("#sign-form [data-sync-state]")).to_have_text("本机已存")
    page.select_option("select[name=signer]", index=1)
    sign_on_pad(page)
    page.get_by_role("button", name="确认签字").click()
    page.get_by_role("button", name="提交检查记录").click()
    expect(page.locator("#submit [data-sync-state]")).to_have_text("本机已存")
    # check-in, 3 answers, finding, 2 photos, result (one entry for both selects), 2 signatures, submit
    expect(page.locator("[data-banner=pending]")).to_have_text("11 项修改未同步")
    _shot(page, "offline-shell-whole-queued")
    assert_no_horizontal_overflow(page)

    # the browser reloads the record without signal: everything entered is still on screen
    page.reload()
    expect(page.locator("li[data-pending] img[data-pending-photo]")).to_have_count(2)
    expect(points.nth(1).locator("input[value=fails]")).to_be_checked()
    expect(page.locator("select[name=result]")).to_have_value("deadline")
    entries = _outbox(page)
    finding_ref = next(e["ref"] for e in entries if e["kind"] == "finding")
    photo_shas = sorted(e["sha"] for e in entries if e["kind"] == "photo")

    # the last resort, offline too: 本机数据 lists the queue and exports it for a supervisor's import
    page.goto(base + "/offline/device")
    expect(page.locator("#device-queue li[data-state=queued]")).to_have_count(11)
    with page.expect_download() as download:
        page.click("[data-export]")
    doc = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert doc["format"] == "suijian-outbox/1" and len(doc["entries"]) == 11
    photos = [f for e in doc["entries"] for f in e["files"] if f["field"] == "photo"]
    assert sorted(hashlib.sha256(base64.b64decode(f["data"])).hexdigest() for f in photos) == photo_shas
    assert all(f["sha256"] in photo_shas for f in photos)
    page.goto(record_url)

    page.context.set_offline(False)
    expect(page.locator("[data-banner=pending]")).to_be_hidden(timeout=30000)
    expect(page.locator("#result-box")).to_contain_text("记录指纹", timeout=15000)  # followed to the submitted record
    _shot(page, "offline-shell-whole-synced")
    assert [e["state"] for e in _outbox(page)] == ["synced"] * 11

    with site["app"].app_context():
        task = db.session.execute(db.select(Task).filter_by(public_id=pid)).scalar_one()
        insp = db.session.execute(db.select(Inspection).filter_by(task_id=task.id)).scalar_one()
        assert insp.status == InspectionStatus.SUBMITTED
        assert insp.result.value == "deadline" and insp.category.value == "ordered_rectify"
        assert sorted((a.answer.value, a.note or "") for a in insp.answers) == [
            ("complies", ""),
            ("fails", "疏散通道堆放纸箱"),
            ("na", ""),
        ]
        assert [(f.text, f.client_uuid) for f in insp.findings] == [("疏散通道堆放杂物", finding_ref)]
        assert sorted(p.original_sha256 for p in insp.photos) == photo_shas
        assert len(insp.signatures) == 2
        assert insp.checkin_offline
        db.session.remove()


def test_session_lost_while_offline_keeps_the_queue_until_login(phone: Page, site):
    page, base, pid = phone, site["base"], site["third"]
    record_url = f"{base}/inspections/tasks/{pid}/record"
    page.context.grant_permissions(["geolocation"], origin=base)
    login(page, base, "offline-lead")
    page.goto(f"{base}/inspections/tasks/{pid}")
    page.get_by_role("button", name="开始检查").click()
    page.wait_for_url(record_url, timeout=20000)
    page.context.set_offline(True)
    point = page.locator("li[data-point-id]").first
    point.locator("label.ans", has_text="符合").first.click()
    expect(point.locator("[data-sync-state]")).to_have_text("本机已存")

    page.context.clear_cookies()  # the session ends while the phone is offline
    page.context.set_offline(False)
    auth = page.locator("[data-banner=auth]")
    expect(auth).to_contain_text("登录已过期，请重新登录后同步。", timeout=20000)
    expect(point.locator("[data-sync-state]")).to_have_text("本机已存")
    _shot(page, "offline-shell-session-lost")
    auth.get_by_role("link", name="重新登录").click()
    page.fill("input[name=username]", "offline-lead")
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_url(record_url + "*")
    point = page.locator("li[data-point-id]").first
    expect(point.locator("[data-sync-state]")).to_have_text("已同步", timeout=20000)
    assert _stored_answers(site["app"], pid) == [("complies", None)]
