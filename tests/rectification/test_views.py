"""The public verification page behind the QR code, and the printable notice / PDF with their permissions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.factories import make_inspector, make_user
from tests.helpers import PROBLEMS
from webapp.auth.models import Role
from webapp.documents import qr
from webapp.rectification import services
from webapp.rectification.models import RectificationOrder


@pytest.fixture
def order(world, db):
    o = services.issue_order(world.lead_user, world.inspection, "deadline", PROBLEMS, 5)
    db.session.commit()
    return o


def test_anyone_scanning_the_qr_code_sees_the_notice_with_personal_data_masked(client, world, order):
    resp = client.get(f"/v/{order.token}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for shown in (order.number, "偃师区消防救援大队", "偃师测试商贸有限公司", "灭火器压力不足", "第二十八条"):
        assert shown in html
    assert order.deadline.isoformat() in html and order.issued_on.isoformat() in html
    assert "整改中" in html
    # names and phone numbers only masked, also inside the problem text
    for hidden in ("张三", "13812341188", "王小锋", "李四"):
        assert hidden not in html
    assert "138****1188" in html and "王*锋" in html and "张*" in html
    assert "Set-Cookie" not in resp.headers
    assert resp.headers["Referrer-Policy"] == "no-referrer" and "noindex" in resp.headers["X-Robots-Tag"]


def test_the_public_status_follows_the_order(client, world, order, db):
    services.record_outcome(world.lead_user, order, True, "已改正")
    db.session.commit()
    html = client.get(f"/v/{order.token}").get_data(as_text=True)
    assert "已改正" in html and "整改中" not in html


def test_a_passed_deadline_shows_overdue(client, world, db):
    past = dt.date.today() - dt.timedelta(days=30)
    o = services.issue_order(world.lead_user, world.inspection, "deadline", PROBLEMS, 3, today=past)
    db.session.commit()
    assert "已逾期" in client.get(f"/v/{o.token}").get_data(as_text=True)


@pytest.mark.parametrize("token", ["nope", "x" * 32, "a" * 200])
def test_unknown_tokens_are_404_without_a_cookie(client, order, token):
    resp = client.get(f"/v/{token}")
    assert resp.status_code == 404
    assert "未找到该文书" in resp.get_data(as_text=True)
    assert "Set-Cookie" not in resp.headers


def test_printable_notice_for_the_organisations_supervisor_and_the_assigned_inspectors(client, login_as, world, order):
    for user in (world.supervisor, world.lead_user, world.partner_user):
        login_as(user)
        resp = client.get(f"/notices/{order.id}")
        assert resp.status_code == 200, user.username
        html = resp.get_data(as_text=True)
        assert order.number in html and "<svg" in html and f"/v/{order.token}" in html
        assert "张三" in html  # the notice itself is addressed to the unit: no masking
        assert qr.svg(f"http://localhost/v/{order.token}") in html  # the QR encodes the public URL
        client.post("/logout")


def test_others_cannot_see_the_notice(client, login_as, world, order, db):
    outsider_sup = make_user(world.other_org, Role.SUPERVISOR)
    stranger = make_user(world.org, Role.INSPECTOR)
    make_inspector(world.org, user=stranger)  # an inspector of the same organisation, not on the task
    admin = make_user(world.org, Role.ADMIN)
    db.session.commit()
    for user in (outsider_sup, stranger, admin):
        login_as(user)
        assert client.get(f"/notices/{order.id}").status_code == 404, user.username
        assert client.get(f"/notices/{order.id}/notice.pdf").status_code == 404, user.username
        client.post("/logout")
    client.post("/logout")
    anon = client.get(f"/notices/{order.id}")
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]


def test_pdf_download(client, login_as, world, order):
    login_as(world.lead_user)
    resp = client.get(f"/notices/{order.id}/notice.pdf")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    assert len(resp.data) > 2000


def test_immediate_orders_have_a_page_but_no_deadline_pdf(client, login_as, world, db):
    o = services.issue_order(world.lead_user, world.inspection, "immediate", PROBLEMS)
    db.session.commit()
    login_as(world.supervisor)
    page = client.get(f"/notices/{o.id}")
    assert page.status_code == 200 and "责令你单位立即改正" in page.get_data(as_text=True)
    assert "notice.pdf" not in page.get_data(as_text=True)
    assert client.get(f"/notices/{o.id}/notice.pdf").status_code == 404


def test_the_public_site_finds_a_notice_by_its_number_and_the_units_uscc(client, world, order):
    page = client.get("/public/notice")
    assert page.status_code == 200 and page.headers.get("Set-Cookie") is None
    assert 'href="/public/notice"' in client.get("/public/").get_data(as_text=True)

    uscc = order.unit.uscc
    typed = order.number.replace("〔", "[").replace("〕", "]")  # typed with ASCII brackets and a space
    resp = client.get("/public/notice", query_string={"number": " " + typed, "uscc": uscc.lower()})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/v/{order.token}")


def test_a_number_without_the_matching_uscc_finds_nothing_and_keeps_what_was_typed(client, world, order):
    resp = client.get("/public/notice", query_string={"number": order.number, "uscc": "91410000MA00000000"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "未找到" in html
    assert order.token not in html and 'value="91410000MA00000000"' in html
    missing = client.get("/public/notice", query_string={"number": order.number, "uscc": ""})
    assert missing.status_code == 422 and "请填写" in missing.get_data(as_text=True)
    assert 'id="uscc-err"' in missing.get_data(as_text=True)  # next to the empty field, the number kept
    assert f'value="{order.number}"' in missing.get_data(as_text=True)


# ----------------------------------------------------------------------------- issuing: the form's key


def _posted(html: str) -> dict:
    """The issue form as the page shows it: its key and the problems prefilled, the kind and days as chosen."""
    key = re.search(r'<input id="client_key" name="client_key" type="hidden" value="([^"]*)">', html)
    assert key is not None, "the issue form carries no key"
    return {
        "client_key": key.group(1),
        "kind": "deadline",
        "deadline_days": "5",
        "problems-0-text": PROBLEMS[0]["text"],
        "problems-0-basis": PROBLEMS[0]["basis"],
    }


def test_posting_the_issue_form_again_shows_the_order_it_issued(client, login_as, world, db):
    """Finding 4: the form carries a key; posting it again (double tap, back and submit, retry after a timeout)
    lands on the one order; the same key with other content is refused (409) and names the order."""
    login_as(world.lead_user)
    url = f"/notices/new/{world.inspection.id}"
    data = _posted(client.get(url).get_data(as_text=True))
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    (order,) = db.session.execute(select(RectificationOrder)).scalars().all()
    changed = client.post(url, data={**data, "deadline_days": "9"})
    html = changed.get_data(as_text=True)
    assert changed.status_code == 409 and order.number in html and "未作修改" in html
    # a second form for the same record (a new key) is told which order exists
    other = _posted(client.get(url).get_data(as_text=True))
    assert other["client_key"] != data["client_key"]
    refused = client.post(url, data=other)
    assert refused.status_code == 422 and "不能重复制发" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert [o.id for o in db.session.execute(select(RectificationOrder)).scalars()] == [order.id]


def test_a_form_without_a_key_is_refused_and_shown_again_with_one(client, login_as, world, db):
    """A page opened before the key existed: nothing is issued, the form comes back with a key to post again."""
    login_as(world.lead_user)
    url = f"/notices/new/{world.inspection.id}"
    data = _posted(client.get(url).get_data(as_text=True))
    del data["client_key"]
    resp = client.post(url, data=data)
    assert resp.status_code == 422 and "页面已过期" in resp.get_data(as_text=True)
    assert db.session.execute(select(RectificationOrder)).first() is None
    again = client.post(url, data=_posted(resp.get_data(as_text=True)))
    assert again.status_code == 303
