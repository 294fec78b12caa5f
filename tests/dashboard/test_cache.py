"""The dashboard's figures: stored in the database for every app server, computed by the worker, refreshed when
stale. (The queue runs in immediate mode here: a task asked of the worker runs where it is asked.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.factories import make_org, make_user
from webapp.auth.models import Role
from webapp.dashboard import cache
from webapp.dashboard.models import DashboardFigures
from webapp.demo import DEMO_PASSWORD
from webapp.extensions import db as _db


@pytest.fixture
def cached(app, db, monkeypatch):
    app.config["DASHBOARD_CACHE_SECONDS"] = 300
    cache.clear()
    calls: list[tuple] = []

    def counted(*args):
        calls.append(args)
        return {"n": len(calls), "args": list(args), "when": dt.date(2026, 11, 20)}

    monkeypatch.setitem(cache._kinds, "test", counted)
    yield calls
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    cache.clear()


def test_figures_are_computed_once_then_served_until_stale_then_refreshed_by_the_worker(cached, monkeypatch):
    first = cache.get("test", ("a",))
    assert first.value == {"n": 1, "args": ["a"], "when": dt.date(2026, 11, 20)}
    assert cache.get("test", ("a",)).value["n"] == 1  # fresh: not recomputed
    assert len(cached) == 1

    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=301)
    monkeypatch.setattr(cache, "_now", lambda: later)
    stale = cache.get("test", ("a",))
    assert stale.value["n"] == 1  # the stale figures are shown at once …
    assert len(cached) == 2  # … while the worker recomputes them (here: at once)
    assert cache.get("test", ("a",)).value["n"] == 2
    cache.get("test", ("a",))
    assert len(cached) == 2  # asked of the worker once, not on every request


def test_each_scope_has_its_own_figures(cached):
    assert cache.get("test", ("supervisor", 1)).value["args"] == ["supervisor", 1]
    assert cache.get("test", ("supervisor", 2)).value["args"] == ["supervisor", 2]
    assert cache.get("test", ("supervisor", 1)).value["n"] == 1


def test_with_caching_off_every_request_computes(app, db, cached):
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    assert cache.get("test", ("k",)).value["n"] == 1
    assert cache.get("test", ("k",)).value["n"] == 2


def test_figures_are_stored_as_json_and_decoded_into_their_classes_only():
    from webapp.dashboard.queries import Coverage, WarningSign

    at = dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)
    value = {"cover": [Coverage("a", 10, 3, 5)], "signs": [WarningSign("far", "T-1", "甲", "王", at, 1.5)]}
    assert cache.decode(cache.encode(value)) == value
    with pytest.raises(ValueError):  # only the webapp's dataclasses, never an arbitrary class
        cache.decode('{"__dataclass__": "subprocess:Popen", "fields": {}}')


def supervisor_page(client):
    org = make_org(code="a", name="偃师区消防救援大队")
    user = make_user(org, Role.SUPERVISOR)
    _db.session.commit()
    client.post("/login", data={"username": user.username, "password": DEMO_PASSWORD})
    return user


def test_a_cold_page_shows_the_month_at_once_and_loads_the_year_when_computed(cached, client, db):
    user = supervisor_page(client)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="month"' in html and 'id="cannot-go"' in html  # the month is there at once
    assert 'id="year-pending"' in html and "part=year" in html  # the year is on its way
    assert 'id="coverage"' not in html

    # the worker computed it and stored it where every app server reads it
    key = f'year:["{user.role}",{user.org_id}]'
    assert _db.session.scalar(select(DashboardFigures.value).where(DashboardFigures.key == key))
    part = client.get("/dashboard/?part=year", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.lstrip().startswith('<div id="year-part">') and "<html" not in part
    for section in ("publication", "coverage", "results", "analysis", "orders", "signs"):
        assert f'id="{section}"' in part
    assert "截至" in part and 'id="year-pending"' not in part
    # and the next full page has it all
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="coverage"' in html and 'id="year-pending"' not in html


def test_finding_12_figures_the_worker_stored_are_shown_at_once_by_any_app_server(cached, client, db):
    from webapp import worker

    user = supervisor_page(client)
    worker.refresh_dashboard.call_local("year", [str(user.role), user.org_id])  # the worker, e.g. before a restart
    key = f'year:["{user.role}",{user.org_id}]'
    row = _db.session.get(DashboardFigures, key)
    row.computed_at = dt.datetime(2026, 11, 20, 0, 40, tzinfo=dt.UTC)  # 08:40 Beijing time, by another server
    _db.session.commit()
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="coverage"' in html and 'id="year-pending"' not in html  # no waiting after a restart
    assert re.search(r"截至[^<]*08:40", html)
