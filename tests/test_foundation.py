"""The skeleton: app boots, every endpoint is guarded, login works, the audit chain detects tampering."""

from __future__ import annotations

from sqlalchemy import text

from tests.factories import make_org, make_user
from tests.helpers import DEMO_PASSWORD, login
from webapp import audit, create_app
from webapp.auth.models import Role


def test_every_endpoint_has_a_guard(app):
    from webapp.auth.permissions import guard_of

    for endpoint in app.view_functions:
        if endpoint != "static":
            assert guard_of(app, endpoint) is not None, endpoint


def test_login_wrong_password_shows_chinese_error_and_keeps_username(client, db):
    org = make_org()
    make_user(org, username="wang")
    db.session.commit()
    resp = client.post("/login", data={"username": "wang", "password": "nope"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "用户名或密码错误" in body
    assert 'value="wang"' in body


def test_password_change_logs_out_other_sessions(app, db):
    org = make_org()
    user = make_user(org, username="li")
    db.session.commit()
    phone, desk = app.test_client(), app.test_client()
    login(phone, "li")
    login(desk, "li")
    resp = desk.post(
        "/account/password",
        data={"current": "suijian-demo", "new": "a-much-longer-pass", "confirm": "a-much-longer-pass"},
    )
    assert resp.status_code == 302
    # the phone's session was issued under the old password: it is logged out
    assert phone.get("/me").status_code == 302
    login(phone, "li", "a-much-longer-pass")
    assert phone.get("/me").status_code == 200
    assert user.auth_version == 2


def test_audit_chain_detects_edit_and_delete(runner, db):
    org = make_org()
    user = make_user(org)
    for i in range(3):
        audit.record(user, "test.event", ("thing", i), {"n": i})
    db.session.commit()
    assert runner.invoke(args=["audit-verify"]).exit_code == 0

    db.session.execute(text("UPDATE audit_event SET data = :d WHERE id = 2"), {"d": '{"n":99}'})
    db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "event 2" in result.output

    db.session.execute(text("UPDATE audit_event SET data = :d WHERE id = 2"), {"d": '{"n":1}'})
    db.session.execute(text("DELETE FROM audit_event WHERE id = 2"))
    db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "event 3" in result.output


def test_production_refuses_default_secret(monkeypatch):
    import pytest

    monkeypatch.setenv("SUIJIAN_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_inspector_cannot_open_supervisor_pages(client, db, login_as):
    org = make_org()
    insp = make_user(org, role=Role.INSPECTOR)
    db.session.commit()
    login_as(insp)
    assert client.get("/registry/units").status_code == 403


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(db):
    from flask import request

    from tests.helpers import app_test_config
    from webapp import create_app

    seen = {}
    for proxies in (0, 1):
        app = create_app({**app_test_config(), "TRUSTED_PROXIES": proxies})

        @app.get("/_probe")
        def probe():  # a throwaway route, added in this test only, that echoes the client address
            return request.remote_addr or ""

        seen[proxies] = (
            app.test_client()
            .get("/_probe", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": "203.0.113.7"})
            .get_data(as_text=True)
        )
        with app.app_context():
            from webapp.extensions import db as _db

            _db.engine.dispose()
    assert seen == {0: "127.0.0.1", 1: "203.0.113.7"}


def test_a_login_lasts_a_working_day_also_across_closing_the_browser(client, db):
    """An inspector whose phone browser was closed offline is still signed in when it reopens, so the queued
    changes sync without a new login (the cookie has an expiry instead of ending with the browser)."""
    org = make_org()
    make_user(org, username="zhao")
    db.session.commit()
    resp = client.post("/login", data={"username": "zhao", "password": DEMO_PASSWORD})
    assert resp.status_code == 302
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "Expires=" in cookie
