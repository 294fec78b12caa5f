"""审计日志: a supervisor reads who changed what, when and why, and can check that the chain is intact."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from tests.factories import make_org, make_unit, make_user
from webapp import audit
from webapp.audit import AuditEvent
from webapp.auth.models import OrgKind, Role
from webapp.registry.audit import queries as audit_services


@pytest.fixture
def world(db):
    city = make_org(code="zd", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    yanshi = make_org(code="ys", name="偃师区消防救援大队", parent=city)
    mengjin = make_org(code="mj", name="孟津区消防救援大队", parent=city)
    w = {
        "city": city,
        "yanshi": yanshi,
        "mengjin": mengjin,
        "sup": make_user(yanshi, username="sup_ys", display_name="王队长"),
        "sup_mj": make_user(mengjin, username="sup_mj", display_name="刘队长"),
        "inspector": make_user(yanshi, role=Role.INSPECTOR, username="insp"),
        "admin": make_user(city, role=Role.ADMIN, username="admin"),
    }
    db.session.commit()
    return w


def switch_user(client, login_as, user) -> None:
    client.post("/logout")
    login_as(user)


def test_anonymous_and_inspectors_are_kept_out(client, world, login_as):
    resp = client.get("/registry/audit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    login_as(world["inspector"])
    assert client.get("/registry/audit").status_code == 403
    assert client.get("/registry/audit?verify=1").status_code == 403


def test_supervisor_sees_who_changed_what_when_and_why(client, world, login_as, db):
    unit = make_unit(world["yanshi"], name="偃师华联商厦")
    ev = audit.record(
        world["sup"], "unit.updated", unit, {"name": ["旧名", "偃师华联商厦"], "crowded": [False, True]}, reason="换证"
    )
    db.session.commit()
    login_as(world["sup"])
    body = client.get("/registry/audit").get_data(as_text=True)
    assert "修改检查对象" in body  # action in Chinese
    assert "王队长（sup_ys）" in body  # actor
    assert f'<a href="/registry/units/{unit.public_id}">偃师华联商厦</a>' in body  # subject, linked
    assert "<del>旧名</del> → <ins>偃师华联商厦</ins>" in body  # changed fields with Chinese labels
    assert "单位名称" in body and "<del>否</del> → <ins>是</ins>" in body
    assert "原因：换证" in body
    local = ev.at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert local in body  # shown in Asia/Shanghai


def test_unknown_action_codes_are_shown_as_they_are(client, world, login_as, db):
    audit.record(world["sup"], "draw.witness_signed", ("draw", 7), {"note": "x"}, org_id=world["yanshi"].id)
    db.session.commit()
    login_as(world["sup"])
    body = client.get("/registry/audit").get_data(as_text=True)
    assert "draw.witness_signed" in body
    assert audit_services.action_label("unit.status_changed") == "变更检查对象状态"


def test_only_the_organisation_subtree_is_visible_and_admin_sees_all(client, world, login_as, db):
    mine = make_unit(world["yanshi"], name="本队单位")
    theirs = make_unit(world["mengjin"], name="孟津单位")
    audit.record(world["sup"], "unit.created", mine, {"name": [None, "本队单位"]})
    audit.record(world["sup_mj"], "unit.created", theirs, {"name": [None, "孟津单位"]})
    audit.record(None, "system.maintenance", ("system", 0), {})
    db.session.commit()

    login_as(world["sup"])
    body = client.get("/registry/audit").get_data(as_text=True)
    assert "本队单位" in body and "孟津单位" not in body and "system.maintenance" not in body

    switch_user(client, login_as, world["admin"])
    body = client.get("/registry/audit").get_data(as_text=True)
    assert "本队单位" in body and "孟津单位" in body and "system.maintenance" in body
    assert "系统" in body  # events without an actor


def test_filter_by_action_prefix_and_by_subject(client, world, login_as, db):
    a = make_unit(world["yanshi"], name="甲单位")
    b = make_unit(world["yanshi"], name="乙单位")
    audit.record(world["sup"], "unit.created", a, {"name": [None, "甲单位"]})
    audit.record(world["sup"], "unit.created", b, {"name": [None, "乙单位"]})
    audit.record(world["sup"], "unit.status_changed", a, {"status": ["active", "zombie"]}, reason="查无此单位")
    db.session.commit()
    login_as(world["sup"])  # writes a user.login event

    units_only = client.get("/registry/audit?action=unit.").get_data(as_text=True)
    assert units_only.count('class="event"') == 3
    assert "<strong>登录</strong>" not in units_only
    logins = client.get("/registry/audit?action=user.").get_data(as_text=True)
    assert logins.count('class="event"') == 1 and "<strong>登录</strong>" in logins

    only_a = client.get(f"/registry/audit?subject=unit:{a.id}").get_data(as_text=True)
    assert only_a.count('class="event"') == 2
    assert "对象：甲单位" in only_a  # the filter chip names the unit
    assert "<del>正常</del> → <ins>僵尸单位</ins>" in only_a
    assert "单位名称</span>：甲单位" in only_a  # a creation lists the values set, not "（空） → …"
    assert "乙单位" not in only_a.split('id="results"')[1]

    frag = client.get("/registry/audit?action=unit.", headers={"HX-Request": "true"})
    assert "<html" not in frag.get_data(as_text=True) and frag.get_data(as_text=True).count('class="event"') == 3

    # junk in the filters is ignored rather than an error
    assert client.get("/registry/audit?action=%25&subject=x").status_code == 200


def test_keyset_paging_walks_every_event_once(client, world, login_as, db):
    unit = make_unit(world["yanshi"])
    for i in range(120):
        audit.record(world["sup"], "unit.updated", unit, {"complaint_count": [i, i + 1]})
    db.session.commit()
    login_as(world["sup"])
    url = "/registry/audit?action=unit."
    seen: list[str] = []
    pages = 0
    while url:
        body = client.get(url).get_data(as_text=True)
        pages += 1
        seen += re.findall(r"<del>(\d+)</del>", body)
        m = re.search(r'<a class="btn" rel="next" href="([^"]+)"', body)
        url = m.group(1).replace("&amp;", "&") if m else None
    assert pages == 3
    assert seen == [str(i) for i in range(119, -1, -1)]  # newest first, none twice, none missing


def test_chain_is_verified_only_when_asked(client, world, login_as, db, monkeypatch):
    unit = make_unit(world["yanshi"])
    audit.record(world["sup"], "unit.created", unit, {"name": [None, unit.name]})
    db.session.commit()
    login_as(world["sup"])

    calls = []
    real_verify = audit.verify
    monkeypatch.setattr(audit, "verify", lambda: calls.append(1) or real_verify())
    body = client.get("/registry/audit").get_data(as_text=True)
    assert calls == [] and "校验审计链" in body

    body = client.get("/registry/audit?verify=1").get_data(as_text=True)
    assert calls == [1]
    assert "审计链校验通过：共2条记录，未发现删改。" in body  # unit.created + user.login


def test_a_tampered_chain_is_reported(client, world, login_as, db):
    unit = make_unit(world["yanshi"])
    for i in range(3):
        audit.record(world["sup"], "unit.updated", unit, {"complaint_count": [i, i + 1]})
    db.session.commit()
    second = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id).offset(1).limit(1)).scalar_one()
    db.session.execute(text("UPDATE audit_event SET reason = 'changed' WHERE id = :id"), {"id": second})
    db.session.commit()
    login_as(world["sup"])
    body = client.get("/registry/audit?verify=1").get_data(as_text=True)
    assert "审计链校验失败" in body
    assert f"事件 #{second} 的内容与其哈希不符（记录被修改）" in body
