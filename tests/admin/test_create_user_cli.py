"""``flask create-user``: the first administrator of a fresh installation (or any user) from the command line."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_org
from webapp.audit import AuditEvent
from webapp.auth.models import Role, User
from webapp.auth.services import authenticate

PASSWORD = "erste-anmeldung-2026"


def _user(db, username: str) -> User | None:
    db.session.rollback()
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def test_creates_an_audited_user_with_the_password_from_stdin(runner, db):
    org = make_org(code="ly-yanshi", name="洛阳市偃师区消防救援大队")
    db.session.commit()
    result = runner.invoke(
        args=[
            "create-user",
            "wang.admin",
            "--role",
            "admin",
            "--org",
            "LY-YANSHI",
            "--name",
            "王管理",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "created user wang.admin (admin, ly-yanshi" in result.output
    user = _user(db, "wang.admin")
    assert user is not None and user.role == Role.ADMIN and user.org_id == org.id and user.display_name == "王管理"
    assert authenticate("wang.admin", PASSWORD) is not None
    (event,) = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.created")).scalars()
    assert event.actor_id is None and event.reason == "flask create-user" and event.subject_id == str(user.id)


def test_asks_for_the_password_twice_without_echo(runner, db):
    make_org(code="ly")
    db.session.commit()
    result = runner.invoke(
        args=["create-user", "li.sup", "--role", "supervisor", "--org", "ly", "--name", "李队长"],
        input=f"{PASSWORD}\nsomething-else-2026\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "do not match" in result.output  # the first pair differed: asked again
    assert authenticate("li.sup", PASSWORD) is not None


def test_refuses_with_a_clear_message_and_creates_nothing(runner, db):
    org = make_org(code="ly")
    db.session.commit()
    unknown = runner.invoke(
        args=["create-user", "x.user", "--role", "admin", "--org", "nope", "--name", "某人", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert unknown.exit_code == 1 and "no organisation with code 'nope'" in unknown.output

    bad = runner.invoke(
        args=["create-user", "x", "--role", "inspector", "--org", "ly", "--name", "某人", "--password-stdin"],
        input="short\n",
    )
    assert bad.exit_code == 1
    assert "USERNAME: 用户名只能包含字母" in bad.output and "password: 初始密码至少10位" in bad.output

    wrong_role = runner.invoke(
        args=["create-user", "x.user", "--role", "boss", "--org", "ly", "--name", "某人", "--password-stdin"]
    )
    assert wrong_role.exit_code == 2 and "'boss' is not one of" in wrong_role.output

    org.active = False
    db.session.commit()
    inactive = runner.invoke(
        args=["create-user", "x.user", "--role", "inspector", "--org", "ly", "--name", "某人", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert inactive.exit_code == 1 and "--org: 所选机构已停用" in inactive.output
    assert _user(db, "x.user") is None and _user(db, "x") is None
    assert not list(db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.created")).scalars())
