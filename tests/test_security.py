"""Attacks from the security review (issue 12), each reproduced as a user would notice it.

Login limits in shared storage (per account, a generous per-address cap), production refusing per-process
rate-limit storage, anonymous request bodies capped before anything parses them, NUL bytes answered with 400
(never a database error), the dashboard's year part without htmx, logout ending the session on the server, and
a strict Content-Security-Policy with no inline script, handler or style left in the templates.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

import pytest

from tests.factories import make_org, make_user
from tests.helpers import app_test_config, as_, body, login
from webapp import create_app
from webapp.auth.models import Role
from webapp.extensions import limiter

REDIS_URL = "redis://127.0.0.1:6379"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture
def limited_app(db):
    """An app with the login limits on, counting in the Redis server under a key prefix of its own.

    The limiter is one object for every app of the process: its state is put back afterwards, so the rest of
    the suite keeps running without limits.
    """
    import redis

    saved = dict(limiter.__dict__)
    prefix = f"test-{uuid.uuid4().hex}"
    app = create_app(
        {
            **app_test_config(),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": prefix,
        }
    )
    app.prefix = prefix  # type: ignore[attr-defined]
    yield app
    with app.app_context():  # its own engine: close its connections (PostgreSQL warns about open ones)
        db.session.remove()
        db.engine.dispose()
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)
    conn = redis.Redis.from_url(REDIS_URL)
    keys = list(conn.scan_iter(f"*{prefix}*"))
    if keys:
        conn.delete(*keys)


def _post_login(client, username: str, password: str, ip: str):
    as_(client)
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip})


# ------------------------------------------------------------------------------- rate limits (finding 5)


@pytest.mark.parametrize("uri", [None, "memory://"])
def test_production_refuses_per_process_rate_limit_storage(monkeypatch, uri):
    monkeypatch.setenv("SUIJIAN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-for-this-test")
    if uri is None:
        monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    else:
        monkeypatch.setenv("RATELIMIT_STORAGE_URI", uri)
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        create_app()


def test_wrong_passwords_are_limited_per_account_whatever_the_address(limited_app, db):
    """Brute force from many addresses: after 10 wrong passwords the account refuses even the right one."""
    import redis

    org = make_org()
    make_user(org, username="wang")
    db.session.commit()
    client = limited_app.test_client()
    for i in range(10):
        assert _post_login(client, "wang", f"guess-{i}", f"198.51.100.{i + 1}").status_code == 422
    refused = _post_login(client, " WANG ", "suijian-demo", "203.0.113.99")
    assert refused.status_code == 429
    assert "尝试次数过多" in body(refused)
    # the counts live in Redis, where every app server sees them
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{limited_app.prefix}*"))
    # another account from the same addresses is not affected
    make_user(org, username="li")
    db.session.commit()
    assert _post_login(client, "li", "suijian-demo", "198.51.100.1").status_code == 302


def test_two_hundred_inspectors_behind_one_address_log_in(limited_app, db):
    """An office or carrier NAT: successful logins do not use up the address's allowance."""
    org = make_org()
    users = [make_user(org, role=Role.INSPECTOR, username=f"insp{i:03d}") for i in range(200)]
    db.session.commit()
    statuses = []
    for user in users:
        client = limited_app.test_client()
        statuses.append(_post_login(client, user.username, "suijian-demo", "192.0.2.10").status_code)
    assert statuses == [302] * 200


def test_password_spraying_from_one_address_is_capped(limited_app, db):
    """Wrong passwords over many accounts from one address stop at the address's cap for failures (100 a minute)."""
    org = make_org()
    users = [make_user(org, role=Role.INSPECTOR, username=f"insp{i:03d}") for i in range(101)]
    db.session.commit()
    client = limited_app.test_client()
    statuses = [_post_login(client, u.username, "password1", "192.0.2.66").status_code for u in users]
    assert statuses[:100] == [422] * 100
    assert statuses[100] == 429


# ------------------------------------------------------------------------- anonymous bodies (finding 8)


def test_anonymous_large_body_is_refused_before_it_is_parsed(client, db):
    big = "x" * (1024 * 1024)
    resp = client.post("/login", data={"username": big, "password": "p"})
    assert resp.status_code == 413
    assert "超过了大小限制" in body(resp)


def test_logged_in_users_still_post_larger_forms(client, db):
    """The small cap is for anonymous requests: a logged-in form of 200 KB (a signature's strokes) is read."""
    org = make_org()
    make_user(org, username="wang")
    db.session.commit()
    login(client, "wang")
    resp = client.post("/account/password", data={"current": "x" * 200_000, "new": "y", "confirm": "y"})
    assert resp.status_code == 422
    assert "新密码至少10位" in body(resp)


# ------------------------------------------------------------------------------------- NUL (finding 9)


@pytest.mark.parametrize(
    "url",
    ["/public/results?q=%00", "/public/api/v1/results.json?q=a%00b", "/v/abc%00def", "/public/draws/D-%00"],
)
def test_nul_in_url_is_a_400_with_a_chinese_message(client, db, caplog, url):
    caplog.set_level(logging.INFO)
    resp = client.get(url)
    assert resp.status_code == 400
    assert "无效字符" in body(resp)
    assert not re.search(r"\b(SELECT|INSERT|UPDATE)\b", caplog.text)


def test_nul_in_a_login_name_is_a_400(client, db, caplog):
    caplog.set_level(logging.INFO)
    resp = client.post("/login", data={"username": "wang\x00", "password": "p"})
    assert resp.status_code == 400
    assert "无效字符" in body(resp)
    assert not re.search(r"\b(SELECT|INSERT|UPDATE)\b", caplog.text)


def test_nul_in_a_logged_in_search_is_a_400(client, db):
    org = make_org()
    make_user(org, role=Role.ADMIN, username="root")
    db.session.commit()
    login(client, "root")
    resp = client.get("/registry/units?q=%00")
    assert resp.status_code == 400
    assert "无效字符" in body(resp)


def test_dashboard_year_part_without_htmx_renders_the_page(client, db):
    org = make_org()
    make_user(org, role=Role.SUPERVISOR, username="boss")
    db.session.commit()
    login(client, "boss")
    resp = client.get("/dashboard/?part=year")
    assert resp.status_code == 200
    assert "<html" in body(resp)
    assert "监管看板" in body(resp)


# ------------------------------------------------------------------------------------ logout (finding 11)


def test_logout_ends_the_session_on_the_server(app, db):
    org = make_org()
    make_user(org, username="wang")
    db.session.commit()
    desk, thief, phone = app.test_client(), app.test_client(), app.test_client()
    login(as_(desk), "wang")
    login(as_(phone), "wang")
    cookie = desk.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    assert as_(thief).get("/me").status_code == 200  # a copied cookie works while the session lasts
    assert as_(desk).post("/logout").status_code == 302
    assert as_(thief).get("/me").status_code == 302  # ... and not after logout
    assert as_(desk).get("/me").status_code == 302
    assert as_(phone).get("/me").status_code == 200  # the user's other device stays logged in


# -------------------------------------------------------------------------------------- CSP (finding 11)


def test_pages_carry_a_strict_content_security_policy(client, db):
    resp = client.get("/login")
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = dict([*d.strip().split(" ", 1), ""][:2] for d in csp.split(";") if d.strip())
    assert directives.get("script-src") == "'self'"
    assert directives.get("style-src") == "'self'"
    assert directives.get("object-src") == "'none'"
    assert directives.get("frame-ancestors") == "'none'"
    assert "unsafe" not in csp
    public = client.get("/public/")
    assert "script-src 'self'" in public.headers.get("Content-Security-Policy", "")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"<style\b", re.I), "inline <style>"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\shx-on", re.I), "hx-on (needs eval)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_nothing_inline_that_the_policy_blocks():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = re.sub(r"{#.*?#}", "", path.read_text(encoding="utf-8"), flags=re.S)
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


def test_htmx_is_configured_without_inline_styles_or_eval(client, db):
    page = body(client.get("/login"))
    m = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', page)
    assert m is not None
    import json

    config = json.loads(m.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
