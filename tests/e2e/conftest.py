"""Browser tests: Playwright driving Debian's Chromium at phone size against a live server.

The live server runs the real app (CSRF on, rate limits off) in a thread over its own database: a temporary
SQLite file, or E2E_DATABASE_URL (CI points it at PostgreSQL). It is loaded with a small demo data set.
Screenshots go to artifacts/e2e/ — look at them. The helpers tests call (login, layout assertions) are in
browser.py; this file keeps the fixtures. Under SUIJIAN_TEST_NOW every browser context's clock is set to
the suite's moment too (Playwright's ``clock.install``), so pages that compute dates agree with the server.

The offline scenarios (issue 10) use two more: ``restartable_server`` (a live server over a fresh database that a
test can stop, restart on the same port and make fail on purpose) and ``phones`` (persistent browser profiles
at iPhone 13 size that a test closes and opens again, keeping the service worker, caches and IndexedDB).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.browser import ARTIFACTS, CHROMIUM, LiveServer, Phone, Radio, set_browser_clock


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
    if not os.path.exists(CHROMIUM):
        if os.environ.get("E2E_REQUIRED") or os.environ.get("CI"):
            raise pytest.UsageError(f"browser tests required but Chromium is missing at {CHROMIUM}")
        skip = pytest.mark.skip(reason="Chromium not installed (apt-get install -y chromium fonts-wqy-microhei)")
        for item in items:
            if here in Path(item.fspath).parents:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, playwright):
    # The phone's user agent for the whole browser: a context's user agent does not reach the service worker's
    # own requests, and a different agent there ends the login (Flask-Login's strong session protection).
    phone_agent = playwright.devices["iPhone 13"]["user_agent"]
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            f"--user-agent={phone_agent}",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, playwright):
    return {**browser_context_args, **playwright.devices["iPhone 13"], "locale": "zh-CN"}


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    """pytest-playwright's context (and so its ``page``), with the test clock applied."""
    return set_browser_clock(context)


@pytest.fixture
def new_context(browser: Browser, browser_context_args):
    """Open more browser contexts (a second person, a phone of another size); closed after the test.

    The options are Playwright's ``new_context`` arguments over the default phone (``browser_context_args``).
    pytest-playwright's own ``context`` (and so ``page``) is opened through this factory too.
    """
    contexts: list[BrowserContext] = []

    def _open(**options) -> BrowserContext:
        ctx = set_browser_clock(browser.new_context(**{**browser_context_args, **options}))
        contexts.append(ctx)
        return ctx

    yield _open
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def new_page(new_context):
    """A page in a fresh context with the given options (viewport, downloads, …)."""

    def _open(options: dict) -> Page:
        return new_context(locale="zh-CN", **options).new_page()

    return _open


@pytest.fixture(scope="session")
def live_server():
    from werkzeug.serving import make_server

    from tests.helpers import reset_schema
    from webapp import create_app
    from webapp.extensions import db

    tmp = tempfile.mkdtemp(prefix="suijian-e2e-")
    url = os.environ.get("E2E_DATABASE_URL") or "sqlite:///" + os.path.join(tmp, "e2e.db")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
            # background jobs (imports, exports, the dashboard's year figures) run where they are queued: a real
            # worker process is tested in tests/test_worker.py
            "QUEUE_IMMEDIATE": True,
        }
    )
    reset_schema(app)
    with app.app_context():
        from webapp.demo import load_demo

        load_demo(units=300, seed=7)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app_ctx = app
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def shot(page):
    """Save a full-page screenshot under artifacts/e2e/NAME.png, one image pixel per CSS pixel (390 wide).

    ``scale="css"`` keeps long pages cheap: the iPhone's 3x device pixels made a 100-unit list a 20 000 px
    tall image that took seconds to encode.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _shot(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, scale="css")
        return path

    return _shot


@pytest.fixture(scope="module")
def restartable_server():
    """Make a :class:`LiveServer` over a fresh SQLite database filled by ``setup(app)``; returns (server, data).

    Module-scoped: the tests of a module share the server (each on tasks of its own); a module that injects
    faults or deploys a /sw.js suffix clears them after each test (test_offline.py: ``_clean_server``).
    """
    from tests.helpers import reset_schema
    from webapp import create_app
    from webapp.extensions import db

    servers: list[LiveServer] = []

    def _make(setup):
        tmp = tempfile.mkdtemp(prefix="suijian-e2e-offline-")
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(tmp, "e2e.db"),
                "RATELIMIT_ENABLED": False,
                "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
                "QUEUE_IMMEDIATE": True,
            }
        )
        reset_schema(app)
        with app.app_context():
            data = setup(app)
            db.session.commit()
            db.session.remove()
        server = LiveServer(app).start()
        servers.append(server)
        return server, data

    yield _make
    for server in servers:
        server.stop()
        with server.app.app_context():
            db.engine.dispose()


@pytest.fixture
def phones(playwright, tmp_path):
    """Phones: ``phones(server, name)`` → a :class:`Phone` (not yet opened) with its own profile folder, reaching
    ``server`` (a :class:`LiveServer`) through its own :class:`Radio`, so "offline" cuts every request of it.

    Every phone still open is closed after the test, and its radio; the profile goes with ``tmp_path``.
    """
    made: list[Phone] = []

    def _phone(server: LiveServer, name: str = "phone") -> Phone:
        radio = Radio(server.port)
        phone = Phone(playwright, str(tmp_path / f"profile-{name}-{len(made)}"), radio.base, name, radio=radio)
        made.append(phone)
        return phone

    yield _phone
    for phone in made:
        phone.close()
        phone.radio.close()
