"""Helpers the browser tests call: log in through the form, layout checks at phone size, the test clock.

The fixtures (live server, contexts, screenshots) are in conftest.py.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from playwright.sync_api import BrowserContext

from tests.helpers import DEMO_PASSWORD, suite_now

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"


def set_browser_clock(ctx: BrowserContext) -> BrowserContext:
    """Under a test clock, the browser's clock starts at the server's (travelled) now and ticks on."""
    if suite_now() is not None:
        ctx.clock.install(time=dt.datetime.now(dt.UTC))
    return ctx


def login(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
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
