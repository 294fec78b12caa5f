"""Organisations: the tree (总队 → 支队 → 大队, plus other departments), creating, editing, deactivating."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.helpers import body, events
from webapp.auth.models import Organisation, OrgKind, Role


def org_form(**overrides) -> dict:
    data = {
        "code": "ly-yichuan",
        "name": "洛阳市伊川县消防救援大队",
        "short_name": "伊川大队",
        "kind": "dadui",
        "dept": "fire",
        "parent_id": "",
        "region": "伊川县",
    }
    data.update(overrides)
    return data


def by_code(db, code: str) -> Organisation | None:
    db.session.rollback()
    return db.session.execute(select(Organisation).where(Organisation.code == code)).scalar_one_or_none()


def test_tree_lists_parents_before_children_indented(client, tree, admin, login_as):
    login_as(admin)
    resp = client.get("/admin/orgs")
    assert resp.status_code == 200
    page = body(resp)
    rows = re.findall(r'class="depth-(\d)[^"]*">\s*<a[^>]*>\s*<span class="title">([^<]+)', page)
    assert [(name, int(d)) for d, name in rows] == [
        ("河南省消防救援总队", 0),
        ("洛阳市消防救援支队", 1),
        ("洛阳市偃师区消防救援大队", 2),
        ("洛阳市偃师区市场监督管理局", 0),
    ]
    assert "1个用户" in page  # the admin sits in the 支队


def test_admin_creates_a_dadui_under_a_zhidui(client, db, tree, admin, login_as):
    login_as(admin)
    assert client.get("/admin/orgs/new").status_code == 200
    resp = client.post("/admin/orgs/new", data=org_form(parent_id=str(tree.zhidui.id)))
    assert resp.status_code == 303
    org = by_code(db, "ly-yichuan")
    assert (org.kind, org.dept, org.parent_id, org.short_name, org.active) == (
        OrgKind.DADUI,
        "fire",
        tree.zhidui.id,
        "伊川大队",
        True,
    )
    (ev,) = events(db, "org.created")
    assert ev.payload["code"] == "ly-yichuan" and ev.payload["kind"] == "dadui" and ev.org_id == org.id
    assert "已新增机构：洛阳市伊川县消防救援大队" in body(client.get("/admin/orgs"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"parent_id": ""}, "大队必须隶属于一个支队"),
        ({"parent_id": "zongdui"}, "大队必须隶属于一个支队"),
        ({"kind": "zhidui", "parent_id": "dadui"}, "支队的上级机构只能是总队（或不设上级）"),
        ({"kind": "zongdui", "parent_id": "zongdui"}, "总队是最高层级，不能有上级机构"),
        ({"code": "LY"}, "机构代码已存在"),
        ({"code": "伊川"}, "机构代码只能包含字母、数字、短横线和下划线"),
        ({"name": " "}, "请填写机构名称"),
        ({"kind": ""}, "请选择机构类型"),
        ({"dept": "tax"}, "请选择所属部门"),
    ],
)
def test_org_rules_are_explained_in_chinese(client, db, tree, admin, login_as, overrides, message):
    login_as(admin)
    ids = {"zongdui": tree.zongdui.id, "zhidui": tree.zhidui.id, "dadui": tree.dadui.id}
    data = org_form(parent_id=str(tree.zhidui.id))
    data.update({k: str(ids.get(v, v)) if k == "parent_id" else v for k, v in overrides.items()})
    resp = client.post("/admin/orgs/new", data=data)
    assert resp.status_code == 422
    page = body(resp)
    assert message in page
    assert 'value="伊川大队"' in page
    assert by_code(db, "ly-yichuan") is None


@pytest.mark.parametrize(
    ("kind", "parent"), [("zhidui", None), ("department", None), ("department", "dadui"), ("zongdui", None)]
)
def test_allowed_parents(client, db, tree, admin, login_as, kind, parent):
    login_as(admin)
    parent_id = str(getattr(tree, parent).id) if parent else ""
    resp = client.post(
        "/admin/orgs/new",
        data=org_form(
            code="new-org", kind=kind, parent_id=parent_id, dept="civil_defence" if kind == "department" else "fire"
        ),
    )
    assert resp.status_code == 303
    assert by_code(db, "new-org").kind == OrgKind(kind)


def test_editing_is_audited_with_old_and_new_values(client, db, tree, admin, login_as):
    login_as(admin)
    assert client.get(f"/admin/orgs/{tree.dadui.id}").status_code == 200
    data = org_form(
        code=None,
        name="洛阳市偃师区消防救援大队",
        short_name="偃师大队",
        region="偃师区",
        parent_id=str(tree.zhidui.id),
        reason="补充简称",
    )
    data.pop("code")
    resp = client.post(f"/admin/orgs/{tree.dadui.id}", data=data)
    assert resp.status_code == 303
    org = by_code(db, "ly-yanshi")
    assert org.short_name == "偃师大队" and org.region == "偃师区"
    (ev,) = events(db, "org.updated")
    assert ev.payload == {"short_name": [None, "偃师大队"], "region": [None, "偃师区"]}
    assert ev.reason == "补充简称"

    resp = client.post(f"/admin/orgs/{tree.dadui.id}", data=data)
    assert resp.status_code == 422 and "没有任何修改" in body(resp)


def test_an_org_cannot_move_under_itself_or_its_descendants(client, db, tree, admin, login_as):
    a = make_org(code="dept-a", name="人防办", kind=OrgKind.DEPARTMENT, dept="civil_defence")
    b = make_org(code="dept-b", name="人防办执法科", kind=OrgKind.DEPARTMENT, dept="civil_defence", parent=a)
    db.session.commit()
    login_as(admin)
    for parent in (a, b):
        resp = client.post(
            f"/admin/orgs/{a.id}",
            data=org_form(name="人防办", kind="department", dept="civil_defence", parent_id=str(parent.id)),
        )
        assert resp.status_code == 422
        assert "上级机构不能是本机构或其下级机构" in body(resp)


def test_changing_the_kind_must_keep_the_children_valid(client, db, tree, admin, login_as):
    login_as(admin)
    resp = client.post(
        f"/admin/orgs/{tree.zhidui.id}",
        data=org_form(name="洛阳市消防救援支队", kind="department", parent_id=str(tree.zongdui.id)),
    )
    assert resp.status_code == 422
    assert "下级机构“洛阳市偃师区消防救援大队”是大队，本机构不能改为此类型" in body(resp)


def test_deactivating_is_refused_while_children_or_users_are_active(client, db, tree, admin, login_as):
    make_user(tree.dadui, role=Role.INSPECTOR)
    db.session.commit()
    login_as(admin)
    resp = client.post(f"/admin/orgs/{tree.zhidui.id}/status", data={"action": "deactivate", "reason": "撤并"})
    assert resp.status_code == 422
    page = body(resp)
    assert "不能停用：该机构还有1个在用的下级机构，还有1个在用的用户账号，请先停用或调整它们" in page
    resp = client.post(f"/admin/orgs/{tree.dadui.id}/status", data={"action": "deactivate", "reason": "撤并"})
    assert resp.status_code == 422 and "还有1个在用的用户账号" in body(resp)
    assert by_code(db, "ly").active and by_code(db, "ly-yanshi").active
    assert events(db, "org.deactivated") == []


def test_deactivate_and_reactivate_with_a_reason(client, db, tree, admin, login_as):
    login_as(admin)
    url = f"/admin/orgs/{tree.market.id}/status"
    resp = client.post(url, data={"action": "deactivate", "reason": ""})
    assert resp.status_code == 422 and "请填写原因" in body(resp)
    assert client.post(url, data={"action": "deactivate", "reason": "机构改革撤并"}).status_code == 303
    org = by_code(db, "ys-market")
    assert not org.active
    (ev,) = events(db, "org.deactivated")
    assert ev.reason == "机构改革撤并" and ev.payload == {"active": [True, False]}
    page = body(client.get("/admin/orgs"))
    assert "已停用" in page and "洛阳市偃师区市场监督管理局" in page  # kept, never deleted

    # an inactive organisation is no longer offered, and refused, as a parent
    resp = client.post(
        "/admin/orgs/new", data=org_form(code="m2", kind="department", dept="market", parent_id=str(tree.market.id))
    )
    assert resp.status_code == 422 and "上级机构已停用" in body(resp)

    assert client.post(url, data={"action": "reactivate", "reason": "恢复"}).status_code == 303
    assert by_code(db, "ys-market").active
    assert [e.reason for e in events(db, "org.reactivated")] == ["恢复"]


def test_a_child_cannot_be_reactivated_under_an_inactive_parent(client, db, tree, admin, login_as):
    child = make_org(code="m-child", name="执法大队", kind=OrgKind.DEPARTMENT, dept="market", parent=tree.market)
    child.active = False
    tree.market.active = False
    db.session.commit()
    login_as(admin)
    resp = client.post(f"/admin/orgs/{child.id}/status", data={"action": "reactivate", "reason": "恢复"})
    assert resp.status_code == 422 and "上级机构已停用，请先启用上级机构" in body(resp)


def test_unknown_org_is_404(client, tree, admin, login_as):
    login_as(admin)
    assert client.get("/admin/orgs/987654").status_code == 404
    assert client.post("/admin/orgs/987654/status", data={"action": "deactivate", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("who", ["supervisor", "inspector"])
def test_only_admins_manage_organisations(request, client, tree, login_as, who):
    login_as(request.getfixturevalue(who))
    assert client.get("/admin/orgs").status_code == 403
    assert client.get("/admin/orgs/new").status_code == 403
    assert client.post("/admin/orgs/new", data=org_form(parent_id=str(tree.zhidui.id))).status_code == 403
    assert client.get(f"/admin/orgs/{tree.dadui.id}").status_code == 403
    assert (
        client.post(f"/admin/orgs/{tree.market.id}/status", data={"action": "deactivate", "reason": "x"}).status_code
        == 403
    )


def test_anonymous_is_sent_to_login(client, tree):
    for url in ("/admin/orgs", "/admin/orgs/new", f"/admin/orgs/{tree.dadui.id}"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
