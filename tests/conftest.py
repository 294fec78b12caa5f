"""Shared fixtures: one app per session on a schema built by the real migrations, a clean database per test.

Set TEST_DATABASE_URL to run the same suite on PostgreSQL, e.g.
``TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test``.

Set SUIJIAN_TEST_NOW to an ISO datetime with an offset (``2027-12-31T16:30:00+08:00``) to run the whole
suite as if it were that moment: time-machine moves the server side in-process (threads included, the clock
ticking on from there), and the browser tests set Playwright's page clock to the same moment. Unset, the
real clock runs. Tests never depend on today's date: they take "today" from ``webapp.calendar.today()``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import pytest

_TMP = tempfile.mkdtemp(prefix="suijian-test-")
os.environ.setdefault("SUIJIAN_INSTANCE", os.path.join(_TMP, "instance"))

from sqlalchemy import text  # noqa: E402

from tests.factories import DEMO_PASSWORD  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db as _db  # noqa: E402


def suite_now() -> dt.datetime | None:
    """The moment the suite runs at (SUIJIAN_TEST_NOW), or None for the real clock."""
    raw = os.environ.get("SUIJIAN_TEST_NOW")
    if not raw:
        return None
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise pytest.UsageError("SUIJIAN_TEST_NOW needs an offset, e.g. 2027-12-31T16:30:00+08:00")
    return moment


_traveller = None


def pytest_configure(config):
    global _traveller
    moment = suite_now()
    if moment is not None and _traveller is None:
        import time_machine

        _traveller = time_machine.travel(moment, tick=True)
        _traveller.start()


def pytest_unconfigure(config):
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def pytest_report_header(config):
    moment = suite_now()
    return f"test clock: {moment.isoformat() if moment else 'real'} (SUIJIAN_TEST_NOW)"


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + os.path.join(_TMP, "test.db")


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


@pytest.fixture(scope="session")
def app():
    application = create_app(app_test_config())
    reset_schema(application)
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """An app context over an empty (migrated) database; emptied again afterwards."""
    ctx = app.app_context()
    ctx.push()
    try:
        yield _db
    finally:
        _db.session.rollback()
        ctx.pop()
        truncate_all(app)


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


def login(client, username: str, password: str = DEMO_PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login as {username} failed: {resp.status_code}"
    return resp


@pytest.fixture
def login_as(client):
    def _login(user, password: str = DEMO_PASSWORD):
        return login(client, user.username, password)

    return _login
