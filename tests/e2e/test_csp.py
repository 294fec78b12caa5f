"""The Content-Security-Policy blocks nothing the pages need: every page without URL parameters, as each role,
plus the pages a few links away (a task, a record, a draw, a unit, a notice), reports no policy violation and
no script error in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext

from tests.e2e.browser import login

# Recorded in the page before any of its own scripts run (an init script is not subject to the page's policy).
_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = (e.sourceFile || "") + ":" + e.lineNumber;
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""

# Pages reached from a list: the first link of each pattern on these pages is visited too.
_FOLLOW = {
    "/me": r"/inspections/tasks/[^/\"]+$|/draw/tasks/[^/\"]+$",
    "/draw/": r"/draw/[A-Za-z0-9_-]{6,}$",
    "/registry/units": r"/registry/units/[A-Za-z0-9_-]{6,}$",
    "/rectification/orders": r"/notices/\d+$|/rectification/\d+$",
    "/public/": r"/public/draws/[^/\"]+$",
}


def _pages(app) -> list[str]:
    """Every GET route without parameters (the app's own, not the static files or downloads)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        if re.search(r"\.[a-z]+$|export|logout", rule.rule):  # files and downloads: no page to check
            continue
        urls.append(rule.rule)
    return sorted(set(urls))


@pytest.mark.parametrize("username", ["supervisor", "inspector", "admin", None])
def test_no_page_violates_the_content_security_policy(context: BrowserContext, live_server, username):
    from tests.helpers import app_test_config
    from webapp import create_app

    urls = _pages(create_app({**app_test_config(), "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    context.add_init_script(_RECORDER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: "Content Security Policy" in msg.text and errors.append(f"{page.url}: {msg.text}"))
    if username:
        login(page, live_server, username)
    seen: list[str] = []

    def visit(url: str) -> None:
        resp = page.goto(live_server + url)
        if resp is None or resp.status >= 400:
            return
        page.wait_for_load_state("networkidle")
        seen.append(url)
        for violation in page.evaluate("window.__csp"):
            errors.append(f"{url}: {violation}")

    for url in urls:
        if url in ("/login",) and username:
            continue
        visit(url)
        pattern = _FOLLOW.get(url)
        if pattern:
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            for href in hrefs:
                if href and href.startswith("/") and re.search(pattern, href):
                    visit(href)
                    break
    assert len(seen) >= 5
    assert errors == []
