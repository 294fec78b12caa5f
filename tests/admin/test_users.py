"""Users and roles: list with filters, create, change role/organisation, reset password, deactivate."""

from __future__ import annotations

import pytest

from tests.factories import make_org, make_user
from tests.helpers import DEMO_PASSWORD, as_, body, events, login
from webapp.auth.models import OrgKind, Role, User


def user_form(org: int, **overrides) -> dict:
    data = {
        "username": "li.ming",
        "display_name": "李明",
        "role": "inspector",
        "org_id": str(org),
        "password": "chushi-mima-2026",
    }
    data.update(overrides)
    return data


def fresh(db, user: User) -> User:
    db.session.rollback()
    return db.session.get(User, user.id)


def test_list_filters_by_organisation_role_and_status(client, db, tree, admin, supervisor, inspector, login_as):
    gone = make_user(tree.market, role=Role.INSPECTOR, username="gone", display_name="已离职")
    gone.active = False
    db.session.commit()
    as_(client)
    login_as(admin)
    page = body(as_(client).get("/admin/users"))
    assert "共3个用户" in page and "王队长" in page and "张检查" in page and "已离职" not in page

    page = body(as_(client).get(f"/admin/users?org={tree.dadui.id}"))
    assert "共2个用户" in page and ">root<" not in page

    page = body(as_(client).get("/admin/users?role=supervisor"))
    assert "共1个用户" in page and "王队长" in page

    resp = as_(client).get("/admin/users?status=inactive", headers={"HX-Request": "true"})
    fragment = body(resp)
    assert "<html" not in fragment and "共1个用户" in fragment and "已离职" in fragment


def test_admin_creates_a_user_who_can_log_in(app, client, db, tree, admin, login_as):
    as_(client)
    login_as(admin)
    assert as_(client).get("/admin/users/new").status_code == 200
    resp = as_(client).post("/admin/users/new", data=user_form(tree.dadui.id))
    assert resp.status_code == 303
    db.session.rollback()
    user = db.session.query(User).filter_by(username="li.ming").one()
    assert (user.role, user.org_id, user.display_name, user.active) == (Role.INSPECTOR, tree.dadui.id, "李明", True)
    (ev,) = events(db, "user.created")
    assert ev.actor_name == "root" and ev.payload == {
        "username": "li.ming",
        "role": "inspector",
        "org_id": tree.dadui.id,
    }
    assert "chushi-mima-2026" not in ev.data
    login(as_(app.test_client()), "li.ming", "chushi-mima-2026")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "ROOT"}, "用户名已存在"),
        ({"username": "张 三"}, "用户名只能包含字母、数字、点、短横线和下划线"),
        ({"display_name": ""}, "请填写姓名"),
        ({"password": "short-pw"}, "初始密码至少10位"),
        ({"role": ""}, "请选择角色"),
        ({"role": "superuser"}, "请选择角色"),
        ({"org_id": ""}, "请选择所属机构"),
    ],
)
def test_user_rules_are_explained_in_chinese(client, db, tree, admin, login_as, overrides, message):
    as_(client)
    login_as(admin)
    resp = as_(client).post("/admin/users/new", data=user_form(tree.dadui.id, **overrides))
    assert resp.status_code == 422
    page = body(resp)
    assert message in page
    if overrides.get("display_name") != "":
        assert 'value="李明"' in page
    db.session.rollback()
    assert db.session.query(User).filter_by(username="li.ming").count() == 0


def test_users_cannot_be_put_in_an_inactive_organisation(client, db, tree, admin, login_as):
    closed = make_org(code="closed", name="已撤并大队", kind=OrgKind.DADUI, parent=tree.zhidui)
    closed.active = False
    db.session.commit()
    as_(client)
    login_as(admin)
    resp = as_(client).post("/admin/users/new", data=user_form(closed.id))
    assert resp.status_code == 422 and "所选机构已停用" in body(resp)


def test_changing_role_and_org_is_audited_and_ends_the_users_sessions(
    app, client, db, tree, admin, inspector, login_as
):
    phone = app.test_client()
    login(as_(phone), "zhang")
    assert as_(phone).get("/me").status_code == 200
    as_(client)
    login_as(admin)
    assert as_(client).get(f"/admin/users/{inspector.id}").status_code == 200
    resp = as_(client).post(
        f"/admin/users/{inspector.id}",
        data={"display_name": "张检查", "role": "supervisor", "org_id": str(tree.zhidui.id)},
    )
    assert resp.status_code == 303
    user = fresh(db, inspector)
    assert (user.role, user.org_id) == (Role.SUPERVISOR, tree.zhidui.id)
    (ev,) = events(db, "user.updated")
    assert ev.payload == {"role": ["inspector", "supervisor"], "org_id": [tree.dadui.id, tree.zhidui.id]}
    assert as_(phone).get("/me").status_code == 302  # the old session no longer counts

    resp = as_(client).post(
        f"/admin/users/{inspector.id}",
        data={"display_name": "张检查", "role": "supervisor", "org_id": str(tree.zhidui.id)},
    )
    assert resp.status_code == 422 and "没有任何修改" in body(resp)


def test_an_admin_cannot_change_their_own_role(client, db, tree, admin, login_as):
    as_(client)
    login_as(admin)
    resp = as_(client).post(
        f"/admin/users/{admin.id}",
        data={"display_name": "系统管理员", "role": "inspector", "org_id": str(admin.org_id)},
    )
    assert resp.status_code == 422 and "不能修改自己的角色" in body(resp)
    assert fresh(db, admin).role == Role.ADMIN


def test_password_reset_ends_every_session_of_the_user(app, client, db, tree, admin, supervisor, login_as):
    desk = app.test_client()
    login(as_(desk), "boss")
    as_(client)
    login_as(admin)
    resp = as_(client).post(f"/admin/users/{supervisor.id}/password", data={"password": "short"})
    assert resp.status_code == 422 and "新密码至少10位" in body(resp)

    resp = as_(client).post(f"/admin/users/{supervisor.id}/password", data={"password": "xin-mima-2026-11"})
    assert resp.status_code == 303
    assert fresh(db, supervisor).auth_version == 2
    assert as_(desk).get("/items").status_code == 302
    (ev,) = events(db, "user.password_reset")
    assert ev.actor_name == "root" and "xin-mima" not in ev.data
    login(as_(desk), "boss", "xin-mima-2026-11")
    bad = as_(app.test_client()).post("/login", data={"username": "boss", "password": DEMO_PASSWORD})
    assert bad.status_code == 422


def test_deactivate_and_reactivate_a_user(app, client, db, tree, admin, inspector, login_as):
    phone = app.test_client()
    login(as_(phone), "zhang")
    as_(client)
    login_as(admin)
    url = f"/admin/users/{inspector.id}/status"
    resp = as_(client).post(url, data={"action": "deactivate", "reason": ""})
    assert resp.status_code == 422 and "请填写原因" in body(resp)
    assert as_(client).post(url, data={"action": "deactivate", "reason": "调离执法岗位"}).status_code == 303
    assert not fresh(db, inspector).active
    assert as_(phone).get("/me").status_code == 302
    assert (
        as_(app.test_client()).post("/login", data={"username": "zhang", "password": DEMO_PASSWORD}).status_code == 422
    )
    (ev,) = events(db, "user.deactivated")
    assert ev.reason == "调离执法岗位"
    assert "该用户已停用" in body(as_(client).get(f"/admin/users/{inspector.id}"))

    assert as_(client).post(url, data={"action": "reactivate", "reason": "返岗"}).status_code == 303
    assert fresh(db, inspector).active
    login(as_(app.test_client()), "zhang")
    assert [e.reason for e in events(db, "user.reactivated")] == ["返岗"]


def test_an_admin_cannot_deactivate_themself(client, db, tree, admin, login_as):
    as_(client)
    login_as(admin)
    resp = as_(client).post(f"/admin/users/{admin.id}/status", data={"action": "deactivate", "reason": "测试"})
    assert resp.status_code == 422 and "不能停用自己的账号" in body(resp)
    assert fresh(db, admin).active


def test_unknown_user_is_404(client, tree, admin, login_as):
    as_(client)
    login_as(admin)
    assert as_(client).get("/admin/users/987654").status_code == 404
    assert as_(client).post("/admin/users/987654/password", data={"password": "x" * 12}).status_code == 404


@pytest.mark.parametrize("who", ["supervisor", "inspector"])
def test_only_admins_manage_users(request, client, db, tree, admin, login_as, who):
    as_(client)
    login_as(request.getfixturevalue(who))
    assert as_(client).get("/admin/users").status_code == 403
    assert as_(client).get("/admin/users/new").status_code == 403
    assert as_(client).post("/admin/users/new", data=user_form(tree.dadui.id, role="admin")).status_code == 403
    assert as_(client).get(f"/admin/users/{admin.id}").status_code == 403
    assert as_(client).post(f"/admin/users/{admin.id}/password", data={"password": "x" * 12}).status_code == 403
    assert (
        as_(client).post(f"/admin/users/{admin.id}/status", data={"action": "deactivate", "reason": "x"}).status_code
        == 403
    )
    db.session.rollback()
    assert db.session.query(User).filter_by(username="li.ming").count() == 0


def test_anonymous_is_sent_to_login(client, tree, admin):
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{admin.id}"):
        resp = as_(client).get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
