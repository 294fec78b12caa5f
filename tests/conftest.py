"""Shared fixtures: one app per session on a schema built by the real migrations, a clean database per test.

Set TEST_DATABASE_URL to run the same suite on PostgreSQL, e.g.
``TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test``.

Set SUIJIAN_TEST_NOW to an ISO datetime with an offset (``2027-12-31T16:30:00+08:00``) to run the whole
suite as if it were that moment: time-machine moves the server side in-process (threads included, the clock
ticking on from there), and the browser tests set Playwright's page clock to the same moment. Unset, the
real clock runs. Tests never depend on today's date: they take "today" from ``webapp.calendar.today()``.

Model factories and scenario builders live in tests/factories.py, shared non-fixture helpers in tests/helpers.py
(importing it points the app's instance folder at a temporary directory before ``webapp`` is imported). The
fixtures here wrap the builders that several folders use; a folder's own worlds are in its conftest.py.
"""

from __future__ import annotations

import pytest

from tests.factories import Scene, Tree, build_org_tree, build_scene, make_user
from tests.helpers import DEMO_PASSWORD, app_test_config, login, reset_schema, suite_now, truncate_all
from webapp import create_app
from webapp.auth.models import Role, User
from webapp.extensions import db as _db

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


@pytest.fixture
def login_as(client):
    def _login(user, password: str = DEMO_PASSWORD):
        return login(client, user.username, password)

    return _login


# ------------------------------------------------------------------ worlds used by several folders


@pytest.fixture
def scene(db) -> Scene:
    """A task with two assigned inspectors, a third inspector and two organisations' supervisors."""
    return build_scene()


@pytest.fixture
def tree(db) -> Tree:
    """A small organisation tree: 总队 > 支队 > 大队, and a market department."""
    return build_org_tree()


@pytest.fixture
def admin(db, tree) -> User:
    user = make_user(tree.zhidui, role=Role.ADMIN, username="root", display_name="系统管理员")
    db.session.commit()
    return user


@pytest.fixture
def supervisor(db, tree) -> User:
    user = make_user(tree.dadui, role=Role.SUPERVISOR, username="boss", display_name="王队长")
    db.session.commit()
    return user


@pytest.fixture
def inspector(db, tree) -> User:
    user = make_user(tree.dadui, role=Role.INSPECTOR, username="zhang", display_name="张检查")
    db.session.commit()
    return user
