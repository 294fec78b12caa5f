"""检查对象名录库: a supervisor searches, filters, pages, creates, edits and closes units; data quality."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from sqlalchemy import func, select, update

from tests.factories import make_org, make_unit, make_user
from webapp.audit import AuditEvent
from webapp.auth.models import OrgKind, Role
from webapp.registry.models import CreditLevel, RiskLevel, Unit, UnitClass, UnitStatus
from webapp.registry.units import queries as unit_queries
from webapp.registry.validation import generate_uscc

_rng = random.Random(4711)


def valid_uscc() -> str:
    return generate_uscc(_rng)


def wrong_check_digit(code: str) -> str:
    last = code[-1]
    return code[:-1] + ("1" if last != "1" else "2")


@pytest.fixture
def world(db):
    """A 支队 with two 大队; a supervisor in each 大队 and one at the 支队; an inspector; an admin."""
    city = make_org(code="zd", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI)
    yanshi = make_org(code="ys", name="偃师区消防救援大队", parent=city)
    mengjin = make_org(code="mj", name="孟津区消防救援大队", parent=city)
    other_city = make_org(code="xt", name="邢台市消防救援支队", kind=OrgKind.ZHIDUI)
    w = {
        "city": city,
        "yanshi": yanshi,
        "mengjin": mengjin,
        "other": other_city,
        "sup": make_user(yanshi, username="sup_ys"),
        "sup_mj": make_user(mengjin, username="sup_mj"),
        "sup_city": make_user(city, username="sup_city"),
        "sup_other": make_user(other_city, username="sup_xt"),
        "inspector": make_user(yanshi, role=Role.INSPECTOR, username="insp_ys"),
        "admin": make_user(city, role=Role.ADMIN, username="admin"),
    }
    db.session.commit()
    return w


def form_data(**overrides) -> dict:
    data = {
        "org_id": "",
        "name": "偃师市华联商厦有限公司",
        "uscc": valid_uscc(),
        "address": "偃师区商都路88号",
        "region": "商城街道",
        "industry": "零售业",
        "legal_rep": "李四",
        "safety_person": "王五",
        "contact_name": "赵六",
        "contact_phone": "13800138000",
        "unit_class": "key",
        "crowded": "y",
        "risk_level": "yellow",
        "credit_level": "normal",
        "complaint_count": "2",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def switch_user(client, login_as, user) -> None:
    client.post("/logout")
    login_as(user)


def page_names(body: str) -> list[str]:
    return re.findall(r'<span class="title">([^<]+)</span>', body)


# ------------------------------------------------------------------------------------------ permissions


def test_anonymous_is_sent_to_login_from_every_unit_page(client, world, db):
    unit = make_unit(world["yanshi"])
    db.session.commit()
    for url in (
        "/registry/units",
        "/registry/units/new",
        f"/registry/units/{unit.public_id}",
        f"/registry/units/{unit.public_id}/edit",
        "/registry/quality",
    ):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert "/login" in resp.headers["Location"]
    resp = client.post(f"/registry/units/{unit.public_id}/status", data={"status": "closed", "reason": "x"})
    assert resp.status_code == 302
    assert db.session.get(Unit, unit.id).status == UnitStatus.ACTIVE


def test_inspectors_may_not_open_the_unit_library(client, world, login_as, db):
    unit = make_unit(world["yanshi"])
    db.session.commit()
    login_as(world["inspector"])
    for url in (
        "/registry/units",
        "/registry/units/new",
        f"/registry/units/{unit.public_id}",
        f"/registry/units/{unit.public_id}/edit",
        "/registry/quality",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"/registry/units/{unit.public_id}/status", data={"status": "closed", "reason": "x"}).status_code
        == 403
    )


def test_another_organisations_unit_is_not_found(client, world, login_as, db):
    theirs = make_unit(world["mengjin"], name="孟津某酒店")
    db.session.commit()
    login_as(world["sup"])
    assert client.get(f"/registry/units/{theirs.public_id}").status_code == 404
    assert client.get(f"/registry/units/{theirs.public_id}/edit").status_code == 404
    resp = client.post(f"/registry/units/{theirs.public_id}/status", data={"status": "zombie", "reason": "查无此单位"})
    assert resp.status_code == 404
    resp = client.post(f"/registry/units/{theirs.public_id}/edit", data=form_data(org_id=str(world["mengjin"].id)))
    assert resp.status_code == 404
    assert db.session.get(Unit, theirs.id).status == UnitStatus.ACTIVE
    assert "孟津某酒店" not in client.get("/registry/units").get_data(as_text=True)


def test_list_shows_the_organisation_subtree_and_admin_sees_everything(client, world, login_as, db):
    make_unit(world["yanshi"], name="偃师甲单位")
    make_unit(world["mengjin"], name="孟津乙单位")
    make_unit(world["other"], name="邢台丙单位")
    db.session.commit()

    login_as(world["sup"])
    names = page_names(client.get("/registry/units").get_data(as_text=True))
    assert names == ["偃师甲单位"]

    switch_user(client, login_as, world["sup_city"])
    body = client.get("/registry/units").get_data(as_text=True)
    assert sorted(page_names(body)) == ["偃师甲单位", "孟津乙单位"]
    assert "共2个单位" in body
    # a 支队 supervisor may narrow the list to one of its 大队
    assert page_names(client.get(f"/registry/units?org={world['mengjin'].id}").get_data(as_text=True)) == ["孟津乙单位"]

    switch_user(client, login_as, world["admin"])
    assert len(page_names(client.get("/registry/units").get_data(as_text=True))) == 3


# ------------------------------------------------------------------------------------- search & filters


def test_search_by_name_uscc_and_address(client, world, login_as, db):
    code = valid_uscc()
    make_unit(world["yanshi"], name="偃师市红星幼儿园", address="偃师区槐庙路1号", uscc=valid_uscc())
    make_unit(world["yanshi"], name="华夏超市", address="偃师区首阳山镇商业街", uscc=code)
    make_unit(world["yanshi"], name="天天网吧", address="偃师区商城路5号", uscc=None)
    db.session.commit()
    login_as(world["sup"])

    def search(q: str) -> list[str]:
        return sorted(page_names(client.get("/registry/units", query_string={"q": q}).get_data(as_text=True)))

    assert search("幼儿园") == ["偃师市红星幼儿园"]
    assert search("首阳山") == ["华夏超市"]
    assert search(code) == ["华夏超市"]
    assert search(code[4:12].lower()) == ["华夏超市"]  # partial and case-insensitive
    assert search("偃师区 商城路") == ["天天网吧"]  # every word must match
    assert search("不存在的单位") == []
    body = client.get("/registry/units", query_string={"q": "不存在的单位"}).get_data(as_text=True)
    assert "没有找到与“不存在的单位”匹配的单位" in body
    assert search("100%_") == []  # LIKE wildcards are taken literally


def test_active_search_returns_only_the_results_fragment(client, world, login_as, db):
    make_unit(world["yanshi"], name="偃师宾馆")
    db.session.commit()
    login_as(world["sup"])
    full = client.get("/registry/units?q=宾馆")
    assert "<html" in full.get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms, search"' in full.get_data(as_text=True)
    frag = client.get("/registry/units?q=宾馆", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200
    assert "<html" not in body and 'name="q"' not in body
    assert "偃师宾馆" in body
    assert "HX-Request" in frag.headers["Vary"]


def test_filters_narrow_the_list(client, world, login_as, db):
    org = world["yanshi"]
    make_unit(org, name="重点甲", unit_class=UnitClass.KEY, crowded=True, risk_level=RiskLevel.RED, region="商城街道")
    make_unit(org, name="一般乙", unit_class=UnitClass.GENERAL, credit_level=CreditLevel.POOR, region="首阳山街道")
    make_unit(org, name="九小丙", unit_class=UnitClass.NINE_SMALL, risk_level=RiskLevel.GREEN, address=None)
    make_unit(org, name="无类别丁", unit_class=None, uscc=None, safety_person="")
    make_unit(org, name="已注销戊", status=UnitStatus.CLOSED, status_reason="已注销")
    make_unit(org, name="僵尸己", status=UnitStatus.ZOMBIE, status_reason="查无此单位")
    db.session.commit()
    login_as(world["sup"])

    def names(**args) -> set[str]:
        return set(page_names(client.get("/registry/units", query_string=args).get_data(as_text=True)))

    assert names() == {"一般乙", "九小丙", "无类别丁", "重点甲"}  # default: 正常 only
    assert names(status="all") == {"一般乙", "九小丙", "已注销戊", "无类别丁", "僵尸己", "重点甲"}
    assert names(status="closed") == {"已注销戊"}
    assert names(status="zombie") == {"僵尸己"}
    assert names(unit_class="key") == {"重点甲"}
    assert names(crowded="yes") == {"重点甲"}
    assert names(crowded="no") == {"一般乙", "九小丙", "无类别丁"}
    assert names(risk="red") == {"重点甲"}
    assert names(risk="green") == {"九小丙"}
    assert names(credit="poor") == {"一般乙"}
    assert names(region="首阳山街道") == {"一般乙"}
    assert names(missing="address") == {"九小丙"}
    assert names(missing="uscc") == {"无类别丁"}
    assert names(missing="safety_person") == {"无类别丁"}
    assert names(missing="unit_class") == {"无类别丁"}
    assert names(missing="any") == {"九小丙", "无类别丁"}
    assert names(unit_class="bogus", risk="purple") == names()  # unknown values are ignored

    body = client.get("/registry/units").get_data(as_text=True)
    # the region select lists the regions of visible units
    assert '<option value="商城街道"' in body and '<option value="首阳山街道"' in body
    # missing-data tag on the row
    assert "缺：地址" in body


def test_list_works_without_javascript_as_a_plain_get_form(client, world, login_as, db):
    login_as(world["sup"])
    body = client.get("/registry/units").get_data(as_text=True)
    assert re.search(r'<form class="search unit-search" method="get" action="/registry/units"', body)
    assert '<button class="btn" type="submit">查询</button>' in body


# ------------------------------------------------------------------------------------------------ paging


def test_walking_120_units_page_by_page(client, world, login_as, db):
    for i in range(120):
        make_unit(world["yanshi"], name=f"分页单位{i:03d}")
    db.session.commit()
    login_as(world["sup"])

    seen: list[str] = []
    url = "/registry/units?q=分页单位"
    pages = 0
    while url:
        body = client.get(url).get_data(as_text=True)
        pages += 1
        seen += page_names(body)
        assert "共120个单位" in body
        m = re.search(r'<a class="btn" rel="next" href="([^"]+)"', body)
        url = m.group(1).replace("&amp;", "&") if m else None
        if url:
            assert "下一页" in body and "after=" in url and "q=" in url
    assert pages == 3
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen[0] == "分页单位119" and seen[-1] == "分页单位000"  # newest first


def test_count_is_capped_for_huge_lists(client, world, login_as, db, monkeypatch):
    monkeypatch.setattr(unit_queries, "COUNT_CAP", 5)
    for _ in range(7):
        make_unit(world["yanshi"])
    db.session.commit()
    login_as(world["sup"])
    body = client.get("/registry/units").get_data(as_text=True)
    assert "超过5个单位" in body
    assert "共7个单位" not in body


# ----------------------------------------------------------------------------------------- create / edit


def test_new_unit_form_offers_only_visible_organisations_defaulting_to_own(client, world, login_as):
    login_as(world["sup_city"])
    body = client.get("/registry/units/new").get_data(as_text=True)
    assert f'<option selected value="{world["city"].id}">' in body
    assert "孟津区消防救援大队" in body and "偃师区消防救援大队" in body
    assert "邢台市消防救援支队" not in body


def test_supervisor_creates_a_unit_and_the_audit_log_records_it(client, world, login_as, db):
    login_as(world["sup"])
    data = form_data(org_id=str(world["yanshi"].id), uscc=" " + valid_uscc().lower() + " ")
    resp = client.post("/registry/units/new", data=data)
    assert resp.status_code == 303
    unit = db.session.execute(select(Unit).where(Unit.name == "偃师市华联商厦有限公司")).scalar_one()
    assert resp.headers["Location"].endswith(f"/registry/units/{unit.public_id}")
    assert unit.uscc == data["uscc"].strip().upper()
    assert unit.unit_class == UnitClass.KEY and unit.crowded is True
    assert unit.risk_level == RiskLevel.YELLOW and unit.complaint_count == 2
    assert unit.org_id == world["yanshi"].id

    (ev,) = events(db, "unit.created")
    assert ev.actor_id == world["sup"].id
    assert ev.subject_type == "unit" and ev.subject_id == str(unit.id)
    assert ev.payload["name"] == [None, "偃师市华联商厦有限公司"]
    assert ev.payload["unit_class"] == [None, "key"]

    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已新增检查对象：偃师市华联商厦有限公司" in page
    assert "新增检查对象" in page  # the history on the detail page


def test_name_is_required_and_typed_input_is_kept(client, world, login_as, db):
    login_as(world["sup"])
    resp = client.post(
        "/registry/units/new",
        data=form_data(org_id=str(world["yanshi"].id), name="  ", address="偃师区槐新路66号", uscc=""),
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "请填写单位名称" in body
    assert 'value="偃师区槐新路66号"' in body
    assert 'value="13800138000"' in body
    assert '<option selected value="key">' in body
    assert db.session.execute(select(func.count(Unit.id))).scalar() == 0
    assert events(db, "unit.created") == []


def test_uscc_with_a_wrong_check_digit_is_refused_in_chinese(client, world, login_as, db):
    login_as(world["sup"])
    bad = wrong_check_digit(valid_uscc())
    resp = client.post("/registry/units/new", data=form_data(org_id=str(world["yanshi"].id), uscc=bad))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "统一社会信用代码校验位错误，请核对" in body
    assert f'value="{bad}"' in body
    assert 'aria-invalid="true"' in body
    short = client.post("/registry/units/new", data=form_data(org_id=str(world["yanshi"].id), uscc="91410381"))
    assert "统一社会信用代码应为18位（当前8位）" in short.get_data(as_text=True)


def test_other_validation_messages_come_from_clean_unit(client, world, login_as):
    login_as(world["sup"])
    resp = client.post(
        "/registry/units/new",
        data=form_data(
            org_id=str(world["yanshi"].id), contact_phone="12345", complaint_count="-1", unit_class="general"
        ),
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "电话号码格式错误" in body
    assert "投诉举报次数应为非负整数" in body
    assert "人员密集场所应属于消防安全重点单位" in body


def test_a_uscc_that_belongs_to_another_unit_names_that_unit(client, world, login_as, db):
    holder = make_unit(world["yanshi"], name="已有的商场")
    theirs = make_unit(world["other"], name="邢台某公司")
    db.session.commit()
    login_as(world["sup"])
    resp = client.post("/registry/units/new", data=form_data(org_id=str(world["yanshi"].id), uscc=holder.uscc))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert f'该统一社会信用代码已属于：<a href="/registry/units/{holder.public_id}">已有的商场</a>' in body
    # a unit outside the user's organisations is named, but not linked
    resp = client.post("/registry/units/new", data=form_data(org_id=str(world["yanshi"].id), uscc=theirs.uscc))
    body = resp.get_data(as_text=True)
    assert "该统一社会信用代码已属于：邢台某公司（邢台市消防救援支队）" in body
    assert theirs.public_id not in body
    assert db.session.execute(select(func.count(Unit.id))).scalar() == 2


def test_a_unit_cannot_be_put_into_an_organisation_outside_the_subtree(client, world, login_as, db):
    login_as(world["sup"])
    resp = client.post("/registry/units/new", data=form_data(org_id=str(world["mengjin"].id)))
    assert resp.status_code == 422
    assert "请选择所属机构" in resp.get_data(as_text=True)
    assert db.session.execute(select(func.count(Unit.id))).scalar() == 0


def test_edit_records_changed_fields_and_reason(client, world, login_as, db):
    unit = make_unit(world["yanshi"], name="旧名称酒店", safety_person=None, risk_level=RiskLevel.BLUE)
    db.session.commit()
    login_as(world["sup"])
    form = client.get(f"/registry/units/{unit.public_id}/edit").get_data(as_text=True)
    assert 'value="旧名称酒店"' in form and "修改原因" in form

    data = form_data(
        org_id=str(world["yanshi"].id),
        name="新名称酒店",
        uscc=unit.uscc,
        address=unit.address,
        region=unit.region,
        industry="",
        legal_rep="",
        contact_name="",
        contact_phone="",
        safety_person="孙七",
        unit_class="general",
        crowded=None,
        risk_level="red",
        complaint_count="0",
        reason="营业执照变更名称",
    )
    resp = client.post(f"/registry/units/{unit.public_id}/edit", data=data)
    assert resp.status_code == 303
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert unit.name == "新名称酒店" and unit.safety_person == "孙七" and unit.risk_level == RiskLevel.RED
    (ev,) = events(db, "unit.updated")
    assert ev.payload == {
        "name": ["旧名称酒店", "新名称酒店"],
        "safety_person": [None, "孙七"],
        "risk_level": ["blue", "red"],
    }
    assert ev.reason == "营业执照变更名称"

    # saving again without changes writes nothing
    resp = client.post(f"/registry/units/{unit.public_id}/edit", data=dict(data, reason=""))
    assert resp.status_code == 303
    assert len(events(db, "unit.updated")) == 1
    assert "没有需要保存的修改" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_edit_errors_return_422_and_change_nothing(client, world, login_as, db):
    unit = make_unit(world["yanshi"], name="原名")
    db.session.commit()
    login_as(world["sup"])
    resp = client.post(
        f"/registry/units/{unit.public_id}/edit",
        data=form_data(org_id=str(world["yanshi"].id), name="", uscc=wrong_check_digit(unit.uscc)),
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "请填写单位名称" in body and "统一社会信用代码校验位错误" in body
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).name == "原名"
    assert events(db, "unit.updated") == []


def test_htmx_form_submission_gets_the_form_block_or_a_redirect_header(client, world, login_as, db):
    login_as(world["sup"])
    bad = client.post("/registry/units/new", data=form_data(name=""), headers={"HX-Request": "true"})
    assert bad.status_code == 422
    assert "<html" not in bad.get_data(as_text=True) and "请填写单位名称" in bad.get_data(as_text=True)
    ok = client.post(
        "/registry/units/new", data=form_data(org_id=str(world["yanshi"].id)), headers={"HX-Request": "true"}
    )
    assert ok.status_code == 200
    assert ok.headers["HX-Redirect"].startswith("/registry/units/U-")


# ------------------------------------------------------------------------------------------------ status


def test_closing_a_unit_needs_a_reason(client, world, login_as, db):
    unit = make_unit(world["yanshi"], name="待注销公司")
    db.session.commit()
    login_as(world["sup"])
    resp = client.post(f"/registry/units/{unit.public_id}/status", data={"status": "closed", "reason": "  "})
    assert resp.status_code == 422
    assert "请填写状态变更原因" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).status == UnitStatus.ACTIVE
    assert events(db, "unit.status_changed") == []


def test_closing_with_a_reason_keeps_the_unit_and_its_history(client, world, login_as, db):
    unit = make_unit(world["yanshi"], name="待注销公司")
    db.session.commit()
    login_as(world["sup"])
    client.post(
        f"/registry/units/{unit.public_id}/edit",
        data=form_data(
            org_id=str(world["yanshi"].id),
            name="待注销公司",
            uscc=unit.uscc,
            address="偃师区新地址1号",
            crowded=None,
            unit_class="general",
        ),
    )
    resp = client.post(
        f"/registry/units/{unit.public_id}/status", data={"status": "closed", "reason": "市场监管部门已注销登记"}
    )
    assert resp.status_code == 303
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert unit.status == UnitStatus.CLOSED and unit.status_reason == "市场监管部门已注销登记"
    (ev,) = events(db, "unit.status_changed")
    assert ev.payload == {"status": ["active", "closed"]} and ev.reason == "市场监管部门已注销登记"

    detail = client.get(f"/registry/units/{unit.public_id}").get_data(as_text=True)
    assert "状态已变更：正常 → 已停业/注销" in detail
    assert "市场监管部门已注销登记" in detail
    history = detail[detail.index("变更记录") :]

    # newest first: status change, then the edit, nothing about other units
    assert history.index("变更检查对象状态") < history.index("修改检查对象")
    assert "<del>正常</del> → <ins>已停业/注销</ins>" in history
    assert "<del>偃师区测试路" in history and "<ins>偃师区新地址1号</ins>" in history

    # gone from the default list, still found under 已停业/注销
    assert "待注销公司" not in client.get("/registry/units").get_data(as_text=True)
    assert "待注销公司" in client.get("/registry/units?status=closed").get_data(as_text=True)

    # the same status twice is refused; reopening needs a reason too and is recorded
    again = client.post(f"/registry/units/{unit.public_id}/status", data={"status": "closed", "reason": "再次"})
    assert again.status_code == 422 and "该单位已是此状态" in again.get_data(as_text=True)
    client.post(f"/registry/units/{unit.public_id}/status", data={"status": "active", "reason": "经核实已恢复营业"})
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).status == UnitStatus.ACTIVE
    assert len(events(db, "unit.status_changed")) == 2


def test_marking_a_zombie_unit_via_htmx_shows_errors_in_the_status_block(client, world, login_as, db):
    unit = make_unit(world["yanshi"])
    db.session.commit()
    login_as(world["sup"])
    resp = client.post(
        f"/registry/units/{unit.public_id}/status",
        data={"status": "zombie", "reason": ""},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "<html" not in body and "请填写状态变更原因" in body
    resp = client.post(
        f"/registry/units/{unit.public_id}/status",
        data={"status": "zombie", "reason": "现场核查查无此单位"},
        headers={"HX-Request": "true"},
    )
    assert resp.headers["HX-Redirect"] == f"/registry/units/{unit.public_id}"
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).status == UnitStatus.ZOMBIE


def test_unknown_unit_is_404(client, world, login_as):
    login_as(world["admin"])
    assert client.get("/registry/units/U-doesnotexist").status_code == 404


# ----------------------------------------------------------------------------------------------- quality


def test_quality_counts_and_links(client, world, login_as, db):
    org = world["yanshi"]
    make_unit(org, name="完整")
    make_unit(org, name="缺地址", address=None, contact_phone="0379-67713119")
    make_unit(org, name="缺地址和电话", address="", contact_phone=None)  # also a suspect: cannot be reached
    make_unit(org, name="缺信用代码", uscc=None)
    make_unit(org, name="缺责任人", safety_person=None)
    make_unit(org, name="缺类别", unit_class=None)
    make_unit(org, name="注销的缺地址", address=None, status=UnitStatus.CLOSED)  # closed: not counted as missing
    make_unit(org, name="僵尸", status=UnitStatus.ZOMBIE)
    stale = make_unit(org, name="久未更新", contact_phone="13800000000")
    make_unit(world["mengjin"], name="孟津缺地址", address=None)
    make_unit(world["other"], name="别处缺地址", address=None)
    db.session.flush()
    db.session.execute(
        update(Unit)
        .where(Unit.id == stale.id)
        .values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=800))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()

    total, per_org = unit_queries.quality_report(world["sup"])
    assert total.active == 7
    assert total.missing == {"address": 2, "uscc": 1, "safety_person": 1, "unit_class": 1}
    assert total.missing_any == 5
    assert (total.closed, total.zombie, total.suspect) == (1, 1, 2)
    assert [r.org_name for r in per_org] == ["偃师区消防救援大队"]

    city_total, city_rows = unit_queries.quality_report(world["sup_city"])
    assert city_total.missing["address"] == 3 and len(city_rows) == 2

    login_as(world["sup"])
    body = client.get("/registry/quality").get_data(as_text=True)
    assert '<a href="/registry/units?missing=address">2</a>' in body
    assert '<a href="/registry/units?missing=uscc">1</a>' in body
    assert '<a href="/registry/units?suspect=1">2</a>' in body
    assert '<a href="/registry/units?status=zombie">1</a>' in body
    assert "既没有联系电话也没有地址" in body  # the rule is explained

    suspects = page_names(client.get("/registry/units?suspect=1").get_data(as_text=True))
    assert sorted(suspects) == ["久未更新", "缺地址和电话"]

    switch_user(client, login_as, world["sup_city"])
    body = client.get("/registry/quality").get_data(as_text=True)
    assert "按机构" in body
    assert f'href="/registry/units?org={world["mengjin"].id}&amp;missing=address">1</a>' in body


def region_options(client) -> set[str]:
    body = client.get("/registry/units").get_data(as_text=True)
    return set(re.findall(r'<option value="([^"]+)"', body)) & {"商城街道", "岳滩镇", "顾县镇", "缑氏镇"}


def test_the_region_filter_shows_a_new_or_changed_region_at_once(client, world, login_as, db):
    unit = make_unit(world["yanshi"], name="商城酒店", region="商城街道")
    make_unit(world["mengjin"], name="孟津单位", region="缑氏镇")  # not the supervisor's: never listed
    db.session.commit()
    login_as(world["sup"])
    assert region_options(client) == {"商城街道"}
    assert region_options(client) == {"商城街道"}  # asked again (the list is kept for a while)

    resp = client.post("/registry/units/new", data=form_data(org_id=str(world["yanshi"].id), region="岳滩镇"))
    assert resp.status_code == 303
    assert region_options(client) == {"商城街道", "岳滩镇"}

    data = form_data(
        org_id=str(world["yanshi"].id), name=unit.name, uscc=unit.uscc, address=unit.address, region="顾县镇"
    )
    resp = client.post(f"/registry/units/{unit.public_id}/edit", data=data)
    assert resp.status_code == 303
    assert region_options(client) == {"顾县镇", "岳滩镇"}

    # any unit written through the ORM, by any code, refreshes the list
    make_unit(world["yanshi"], name="另一个单位", region="商城街道")
    db.session.commit()
    assert region_options(client) == {"商城街道", "顾县镇", "岳滩镇"}


def test_a_region_written_by_a_bulk_statement_shows_once_the_kept_list_expires(
    client, world, login_as, db, monkeypatch
):
    unit = make_unit(world["yanshi"], name="商城酒店", region="商城街道")
    db.session.commit()
    login_as(world["sup"])
    assert region_options(client) == {"商城街道"}
    db.session.execute(update(Unit).where(Unit.id == unit.id).values(region="岳滩镇"))  # no ORM flush
    db.session.commit()
    monkeypatch.setattr(unit_queries, "REGIONS_TTL", 0.0)
    assert region_options(client) == {"岳滩镇"}
