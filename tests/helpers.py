"""Support code the tests share that is not a fixture: the test app's configuration and database resets,
logging in, reading responses and audit events, and the steps of signing an inspection record.

Importing this module first (tests/conftest.py does) points the app's instance folder at a temporary
directory before ``webapp`` is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid

import pytest

_TMP = tempfile.mkdtemp(prefix="suijian-test-")
os.environ.setdefault("SUIJIAN_INSTANCE", os.path.join(_TMP, "instance"))

from sqlalchemy import select, text  # noqa: E402

from webapp import calendar  # noqa: E402
from webapp.audit import AuditEvent  # noqa: E402
from webapp.extensions import db as _db  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + os.path.join(_TMP, "test.db")
DEMO_PASSWORD = "suijian-demo"  # of every user the factories make (and of the demo data's users)

# Two problems for a rectification order, the first naming a person and a phone number (masked in public).
PROBLEMS = [
    {"text": "疏散通道堆放杂物，联系人张三（13812341188）未及时清理", "basis": "《中华人民共和国消防法》第二十八条"},
    {"text": "灭火器压力不足", "basis": "《中华人民共和国消防法》第十六条第一款第二项"},
]


# ----------------------------------------------------------------------------------- the clock


def suite_now() -> dt.datetime | None:
    """The moment the suite runs at (SUIJIAN_TEST_NOW), or None for the real clock."""
    raw = os.environ.get("SUIJIAN_TEST_NOW")
    if not raw:
        return None
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise pytest.UsageError("SUIJIAN_TEST_NOW needs an offset, e.g. 2027-12-31T16:30:00+08:00")
    return moment


def next_period(today: dt.date | None = None) -> str:
    """The month after ``today`` (default today) as a draw period, "YYYY-MM"."""
    today = today or calendar.today()
    return f"{today.year + (today.month == 12):04d}-{today.month % 12 + 1:02d}"


# ------------------------------------------------------------------------------- app and database


def app_test_config(url: str = TEST_DATABASE_URL) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
        "DASHBOARD_CACHE_SECONDS": 0,  # figures computed on every request (tests/dashboard/test_cache.py: on)
    }


def reset_schema(app) -> None:
    """Drop everything and build the schema with the Alembic migrations (not create_all)."""
    from flask_migrate import upgrade

    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def truncate_all(app) -> None:
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))


# ------------------------------------------------------------------------------- requests


def login(client, username: str, password: str = DEMO_PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login as {username} failed: {resp.status_code}"
    return resp


def body(resp) -> str:
    return resp.get_data(as_text=True)


def as_(browser):
    """Use ``browser`` (a test client) for the next request, as a fresh request would see it.

    Test requests run inside the test's app context (the ``db`` fixture pushes one), so ``flask.g`` and with it
    Flask-Login's cached ``g._login_user`` survive from one request to the next, across test clients. Dropping
    the cached user makes the next request load its user from its own session cookie, as in production.
    """
    from flask import g

    g.pop("_login_user", None)
    return browser


def events(db, action: str) -> list[AuditEvent]:
    """Audit events of one action, oldest first (read in a fresh transaction)."""
    db.session.rollback()
    return list(
        db.session.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars()
    )


# ------------------------------------------------------------------------------- on site


def new_uuid() -> str:
    return str(uuid.uuid4())


def signature_strokes() -> str:
    """A handwritten-like zig-zag on a 340 x 200 pad: enough points and ink to pass the checks."""
    points = [{"x": 30 + i * 5, "y": 60 + (i % 6) * 15, "time": 1000 + i * 16, "pressure": 0.5} for i in range(50)]
    return json.dumps([{"penColor": "black", "points": points}])


def sign_all(client, task, slots: list[str]) -> None:
    """Every signer of the record signs (``slots``: "unit" and "inspector:<id>" keys)."""
    for key in slots:
        data = {"signer": key, "strokes": signature_strokes(), "width": "340", "height": "200"}
        if key == "unit":
            data["signer_name"] = "王小明"
        resp = client.post(f"/inspections/tasks/{task.public_id}/signatures", data=data)
        assert resp.status_code == 200, resp.get_data(as_text=True)


def signer_keys(task) -> list[str]:
    return ["unit", *[f"inspector:{a.inspector_id}" for a in task.active_assignments]]
