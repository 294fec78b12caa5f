"""On site at phone size: check in, checklist with autosave across a reload, a finding with a real JPEG,
result, signatures drawn with the pointer, a double-tapped submit making one record."""

from __future__ import annotations

import io
import os
import tempfile
import threading

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_no_horizontal_overflow, assert_touch_targets, login, sign_on_pad


@pytest.fixture(scope="module")
def site():
    from werkzeug.serving import make_server

    from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
    from tests.helpers import reset_schema
    from webapp import create_app
    from webapp.auth.models import Role
    from webapp.catalog.models import ItemVersion
    from webapp.extensions import db

    tmp = tempfile.mkdtemp(prefix="suijian-e2e-insp-")
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
        item = make_item(org, points=["消防设施器材完好有效", "疏散通道畅通"])
        version = db.session.query(ItemVersion).filter_by(item_id=item.id).one()
        lead = make_inspector(org, name="李卫国", user=make_user(org, role=Role.INSPECTOR, username="lead"))
        partner = make_inspector(org, name="赵志刚", user=make_user(org, role=Role.INSPECTOR, username="partner"))
        unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", contact_phone="13800138000")
        task = make_task(org, unit, version.id, people=[lead, partner])
        db.session.commit()
        public_id = task.public_id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "task": public_id, "app": app}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 09:30:00"  # DateTimeOriginal
    Image.new("RGB", (4000, 3000), (180, 40, 40)).save(buf, "JPEG", quality=70, exif=exif.tobytes())
    return buf.getvalue()


def test_inspection_on_a_phone(page: Page, site, shot):
    base = site["base"]
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 34.7272, "longitude": 112.7878, "accuracy": 15})
    login(page, base, "lead")
    page.goto(base + "/me")
    page.get_by_role("link", name="洛阳好运来超市").first.click()
    expect(page.get_by_role("heading", name="洛阳好运来超市")).to_be_visible()
    expect(page.locator("a[href='tel:13800138000']").first).to_be_visible()
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("insp-01-task")
    page.get_by_role("button", name="开始检查").click()
    page.wait_for_url("**/record")
    expect(page.locator("dl.facts")).to_contain_text("34.72720")
    # checklist: autosaved, still there after a reload
    page.locator("#checklist li").nth(0).get_by_label("符合", exact=True).check()
    expect(page.locator("#checklist li").nth(0).locator(".saved")).to_be_visible()
    page.locator("#checklist li").nth(1).get_by_label("不符合").check()
    expect(page.locator("#checklist li").nth(1).locator(".saved")).to_be_visible()
    page.reload()
    expect(page.locator("#checklist li").nth(1).get_by_label("不符合")).to_be_checked()
    # a finding with a real camera-sized JPEG, downscaled in the browser
    # (the 不符合 point offers its own prefilled form too; this is the free one, 添加问题)
    new_finding = page.locator("form", has=page.get_by_role("button", name="添加问题"))
    new_finding.locator("textarea[name=text]").fill("疏散通道堆放杂物")
    page.get_by_role("button", name="添加问题").click()
    expect(page.locator("#findings")).to_contain_text("疏散通道堆放杂物")
    page.locator("form.photo-upload input[type=file]").set_input_files(
        files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    expect(page.locator("#findings .photo-thumb img")).to_have_count(1, timeout=15000)
    # partner present, result
    page.get_by_role("button", name="记录同组人员在场").click()
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=result]", "deadline")
    page.select_option("select[name=category]", "ordered_rectify")
    expect(page.locator("#result-status")).to_contain_text("已保存")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#result-box .error")).to_have_count(0)
    # three signatures drawn with the pointer
    page.fill("#signer_name", "王小明")
    sign_on_pad(page)
    page.get_by_role("button", name="确认签字").click()
    expect(page.locator("#signatures .sig-img")).to_have_count(1)
    for i in (1, 2):
        page.select_option("select[name=signer]", index=i)
        proxy = page.locator("#proxy_reason")
        if proxy.is_visible():  # the partner's slot, signed on the lead's phone: 代签 needs a reason
            proxy.fill("协办人员手机没电，当面确认后代签")
        sign_on_pad(page)
        page.get_by_role("button", name="确认签字").click()
        expect(page.locator("#signatures .sig-img")).to_have_count(i + 1)
    assert_no_horizontal_overflow(page)
    assert_touch_targets(page)
    shot("insp-02-record-before-submit")
    # a double tap on submit: one record
    page.on("dialog", lambda d: d.accept())
    button = page.get_by_role("button", name="提交检查记录")
    button.dblclick()
    page.wait_for_timeout(1500)
    print("SUBMIT", page.locator("#submit").inner_text() if page.locator("#submit").count() else "-")
    expect(page.locator("#result-box")).to_contain_text("记录指纹")
    shot("insp-03-submitted")
    with site["app"].app_context():
        from webapp.extensions import db
        from webapp.inspections.models import Inspection, InspectionStatus

        insp = db.session.execute(db.select(Inspection)).scalars().all()
        assert len(insp) == 1 and insp[0].status == InspectionStatus.SUBMITTED
        photo = insp[0].photos[0]
        assert len(insp[0].photos) == 1 and photo.width <= 1600
        assert photo.captured_at is not None  # kept although the browser's canvas dropped the EXIF
        assert len(insp[0].signatures) == 3
        assert sum(1 for sig in insp[0].signatures if sig.proxy_reason) == 1  # the partner's, marked 代签
        db.session.remove()
