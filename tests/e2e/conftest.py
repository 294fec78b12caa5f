"""Browser tests: Playwright driving Debian's Chromium at phone size against a live server.

The live server runs the real app (CSRF on, rate limits off) in a thread over its own database: a temporary
SQLite file, or E2E_DATABASE_URL (CI points it at PostgreSQL). It is loaded with a small demo data set.
Screenshots go to artifacts/e2e/ — look at them. Under SUIJIAN_TEST_NOW every browser context's clock is set to
the suite's moment too (Playwright's ``clock.install``), so pages that compute dates agree with the server.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import suite_now

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"


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
def browser_type_launch_args(browser_type_launch_args):
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
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, playwright):
    return {**browser_context_args, **playwright.devices["iPhone 13"], "locale": "zh-CN"}


def set_browser_clock(ctx: BrowserContext) -> BrowserContext:
    """Under a test clock, the browser's clock starts at the server's (travelled) now and ticks on."""
    if suite_now() is not None:
        ctx.clock.install(time=dt.datetime.now(dt.UTC))
    return ctx


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    """pytest-playwright's context (and so its ``page``), with the test clock applied."""
    return set_browser_clock(context)


@pytest.fixture
def new_context(browser: Browser):
    """Open more browser contexts (a second person, a phone of another size); closed after the test.

    The options are Playwright's ``new_context`` arguments; pass ``**browser_context_args`` for the default phone.
    """
    contexts: list[BrowserContext] = []

    def _open(**options) -> BrowserContext:
        ctx = set_browser_clock(browser.new_context(**options))
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

    from tests.conftest import reset_schema
    from webapp import create_app
    from webapp.extensions import db

    tmp = tempfile.mkdtemp(prefix="suijian-e2e-")
    url = os.environ.get("E2E_DATABASE_URL") or "sqlite:///" + os.path.join(tmp, "e2e.db")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
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


def login(page, base: str, username: str, password: str = "suijian-demo") -> None:
    """Log in through the form and wait for the page after the redirect."""
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"login as {username} failed"


def assert_no_horizontal_overflow(page) -> None:
    """Nothing sticks out sideways at phone width (no sideways scrolling)."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"page is {width}px wide in a {inner}px viewport: {page.url}"


# Controls a thumb has to hit: buttons, fields, menus, button-like links, list rows, breadcrumbs.
_TAP_TARGETS = (
    "button, select, summary, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), "
    "a.btn, .list a, .crumbs a, .topbar a, .chip a, dl.facts a"
)


def assert_touch_targets(page, minimum: int = 44) -> None:
    """Every visible control is at least ``minimum`` CSS pixels tall (and wide)."""
    small = page.evaluate(
        """([selector, minimum]) => [...document.querySelectorAll(selector)]
            .filter(e => { const r = e.getBoundingClientRect(), m = minimum - 0.5;
                           return r.width > 0 && r.height > 0 && (r.height < m || r.width < m); })
            .map(e => { const r = e.getBoundingClientRect();
                        return `${e.tagName.toLowerCase()} "${(e.innerText || e.value || '').trim().slice(0, 16)}" `
                               + `${Math.round(r.width)}x${Math.round(r.height)}`; })""",
        [_TAP_TARGETS, minimum],
    )
    assert not small, f"touch targets under {minimum}px on {page.url}: {small}"
