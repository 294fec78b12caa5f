"""Dashboard figures kept per scope (the month's for a minute, the year's for a few) and refreshed in the background.

The month's progress is kept for at most a minute; what a supervisor acts on at once (inspectors who cannot go, the
draw, deletions and freezes) is read live on every request. The year's (coverage, categories, problems by region /
industry / risk, rectification outcomes, warning signs …) each aggregate hundreds of thousands of rows at 1 000 000
inspections, which costs seconds, not milliseconds, however good the indexes. They change slowly, so the page shows
the last computed figures with their time ("截至 12:40") while a background thread recomputes them once they are
older than ``DASHBOARD_CACHE_SECONDS`` (stale-while-revalidate). Only the very first request of a scope (or one
after a restart) finds none: the year's are then computed in the background while the page shows the rest and
a placeholder that loads them when ready (``wait=False``).

The cache lives in the worker process: every gunicorn worker computes its own copy (no pickling, nothing in the
database). ``DASHBOARD_CACHE_SECONDS = 0`` (the tests) computes on every request.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from webapp.db import utcnow
from webapp.extensions import db

log = logging.getLogger(__name__)


@dataclass
class Entry:
    value: Any
    computed_at: dt.datetime
    seconds: float  # how long the computation took


_entries: dict[tuple, Entry] = {}
_refreshing: set[tuple] = set()
_lock = threading.Lock()


def _now() -> dt.datetime:
    """The one "now" (``webapp.db.utcnow``); a seam for the tests' clock."""
    return utcnow()


def _compute(compute: Callable[[], Any]) -> Entry:
    start = _now()
    value = compute()
    return Entry(value, start, (_now() - start).total_seconds())


def _refresh(app, key: tuple, compute: Callable[[], Any]) -> None:
    try:
        with app.app_context():
            try:
                _entries[key] = _compute(compute)
            finally:
                db.session.remove()
    except Exception:  # keep serving the old figures; the next request tries again
        log.exception("dashboard refresh failed for %s", key)
    finally:
        with _lock:
            _refreshing.discard(key)


def _start(key: tuple, compute: Callable[[], Any]) -> None:
    """Recompute ``key`` in a background thread unless that is already under way."""
    with _lock:
        if key in _refreshing:
            return
        _refreshing.add(key)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=_refresh, args=(app, key, compute), name="dashboard-refresh", daemon=True).start()


def get(key: tuple, compute: Callable[[], Any], max_age: int | None = None, wait: bool = True) -> Entry | None:
    """The cached figures of ``key``; ``compute`` must not depend on the request (it may run in a thread).

    ``max_age`` (seconds) caps ``DASHBOARD_CACHE_SECONDS`` for figures that must stay fresher. With
    ``wait=False`` a key never computed yet is computed in the background and ``None`` returned at once (the
    page shows a placeholder that asks again).
    """
    ttl = current_app.config.get("DASHBOARD_CACHE_SECONDS", 300)
    if max_age is not None:
        ttl = min(ttl, max_age)
    if ttl <= 0:
        return _compute(compute)
    entry = _entries.get(key)
    if entry is None:
        if not wait:
            _start(key, compute)
            return None
        entry = _entries[key] = _compute(compute)
        return entry
    if (_now() - entry.computed_at).total_seconds() > ttl:
        _start(key, compute)
    return entry


def clear() -> None:
    _entries.clear()
