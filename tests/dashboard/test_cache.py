"""The dashboard's year-to-date figures: served from the cache, refreshed in the background when stale."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from webapp.dashboard import cache


@pytest.fixture
def cached(app, db):
    app.config["DASHBOARD_CACHE_SECONDS"] = 300
    cache.clear()
    yield app
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    cache.clear()


def test_figures_are_computed_once_then_served_until_stale_then_refreshed_in_the_background(cached, monkeypatch):
    calls = []
    done = threading.Event()

    def compute():
        calls.append(1)
        if len(calls) > 1:
            done.set()
        return len(calls)

    first = cache.get(("k",), compute)
    assert first.value == 1
    assert cache.get(("k",), compute).value == 1  # fresh: not recomputed
    assert len(calls) == 1

    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=301)
    monkeypatch.setattr(cache, "_now", lambda: later)
    stale = cache.get(("k",), compute)
    assert stale.value == 1  # the stale figures are shown at once …
    assert done.wait(5)  # … while a thread recomputes them
    for _ in range(50):
        if cache.get(("k",), compute).value == 2:
            break
        threading.Event().wait(0.05)
    assert cache.get(("k",), compute).value == 2
    assert len(calls) == 2


def test_each_scope_has_its_own_figures(cached):
    assert cache.get(("year", 1), lambda: "a").value == "a"
    assert cache.get(("year", 2), lambda: "b").value == "b"
    assert cache.get(("year", 1), lambda: "c").value == "a"


def test_with_caching_off_every_request_computes(app, db):
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    assert cache.get(("k",), lambda: 1).value == 1
    assert cache.get(("k",), lambda: 2).value == 2


def test_a_cold_page_shows_the_month_at_once_and_loads_the_year_when_computed(cached, client, db):
    from tests.factories import make_org, make_user
    from webapp.auth.models import Role
    from webapp.demo import DEMO_PASSWORD

    org = make_org(code="a", name="偃师区消防救援大队")
    user = make_user(org, Role.SUPERVISOR)
    db.session.commit()
    client.post("/login", data={"username": user.username, "password": DEMO_PASSWORD})

    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="month"' in html and 'id="cannot-go"' in html  # the month is there at once
    assert 'id="year-pending"' in html and "part=year" in html  # the year is on its way
    assert 'id="coverage"' not in html

    for _ in range(100):  # the background computation
        if any(key[0] == "year" for key in cache._entries):
            break
        threading.Event().wait(0.05)
    part = client.get("/dashboard/?part=year", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith('<div id="year-part">') and "<html" not in part
    for section in ("publication", "coverage", "results", "analysis", "orders", "signs"):
        assert f'id="{section}"' in part
    assert "截至" in part and 'id="year-pending"' not in part
    # and the next full page has it all
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="coverage"' in html and 'id="year-pending"' not in html
