"""At 360 px: a far check-in asks for a reason (the field appears, in focus); on the record page a refused form
puts its first error in view with the field focused and marked; an empty pad says 请先签名; after a signature
the signer menu moves on to the next one who has not signed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import ARTIFACTS, assert_no_horizontal_overflow, login, sign_on_pad

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
UNIT = (34.7272, 112.7878)


def _setup(app) -> dict:
    from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
    from webapp.auth.models import Role

    org = make_org(name="偃师区消防救援大队")
    item = make_item(org, points=["消防设施器材完好有效", "疏散通道畅通"])
    lead = make_inspector(org, name="李卫国", user=make_user(org, role=Role.INSPECTOR, username="lead"))
    partner = make_inspector(org, name="赵志刚", user=make_user(org, role=Role.INSPECTOR, username="partner"))
    unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", latitude=UNIT[0], longitude=UNIT[1])
    task = make_task(org, unit, item.current.id, people=[lead, partner])
    return {"task": task.public_id}


@pytest.fixture(scope="module")
def site(restartable_server):
    server, data = restartable_server(_setup)
    return {"base": server.base, "task": data["task"]}


def _shot(page: Page, name: str) -> None:
    """A screenshot of what the phone shows (the viewport: where the focus and the error are)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), scale="css")


def _in_view(page: Page, selector: str) -> bool:
    return page.evaluate(
        """s => { const r = document.querySelector(s).getBoundingClientRect();
                  return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        selector,
    )


def test_far_check_in_error_focus_empty_pad_and_signer_move_at_360(new_page, site):
    base = site["base"]
    page = new_page(PHONE)
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": UNIT[0] + 0.018, "longitude": UNIT[1], "accuracy": 15})  # ~2 km
    login(page, base, "lead")
    page.goto(f"{base}/inspections/tasks/{site['task']}")
    for app in ("amap", "baidu", "tencent"):
        expect(page.locator(f"a[data-map={app}]")).to_be_visible()
    # far: the reason field appears with its message, in focus, and nothing is sent
    page.get_by_role("button", name="开始检查").click()
    field = page.locator("#far_reason")
    expect(field).to_be_visible()
    expect(page.locator("#far_reason-err")).to_contain_text("超过500米，请填写原因")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert _in_view(page, "#far_reason")
    assert "/record" not in page.url
    assert_no_horizontal_overflow(page)
    _shot(page, "checkin-01-far-reason")
    # at the unit: no reason asked
    page.context.set_geolocation({"latitude": UNIT[0], "longitude": UNIT[1] + 0.001, "accuracy": 15})
    field.fill("")
    page.get_by_role("button", name="开始检查").click()
    page.wait_for_url("**/record")
    expect(page.locator("#checkin-distance")).to_contain_text("距单位登记位置约")

    # a finding without text: the error is in view, its field focused and marked
    page.locator("textarea[name=text]").fill("")
    page.get_by_role("button", name="添加问题").click()
    text = page.locator("#findings textarea[name=text]")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_be_focused()
    assert _in_view(page, "#findings textarea[name=text]")
    _shot(page, "checkin-02-finding-error")

    # an empty pad says so, and nothing is sent
    page.select_option("select[name=signer]", "unit")
    page.fill("#signer_name", "王小明")
    page.get_by_role("button", name="确认签字").click()
    expect(page.locator("#strokes-err")).to_have_text("请先签名")
    expect(page.locator("#sign-form canvas")).to_be_focused()
    expect(page.locator("#signatures .sig-img")).to_have_count(0)
    _shot(page, "checkin-03-empty-pad")

    # after the unit's signature the menu moves to the next one who has not signed
    sign_on_pad(page)
    expect(page.locator("#strokes-err")).to_be_hidden()
    page.get_by_role("button", name="确认签字").click()
    expect(page.locator("#signatures .sig-img")).to_have_count(1)
    signer = page.locator("select[name=signer]")
    expect(signer).not_to_have_value("unit")
    first_next = signer.input_value()
    assert first_next.startswith("inspector:")
    proxy = page.locator("#proxy_reason")
    if proxy.is_visible():
        proxy.fill("协办人员手机没电，当面确认后代签")
    sign_on_pad(page)
    page.get_by_role("button", name="确认签字").click()
    expect(page.locator("#signatures .sig-img")).to_have_count(2)
    expect(signer).not_to_have_value(first_next)
    expect(signer).not_to_have_value("unit")
    assert_no_horizontal_overflow(page)
    _shot(page, "checkin-04-signer-moved")
