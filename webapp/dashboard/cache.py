"""Dashboard figures kept per scope in the database, computed by the worker, read by every app server.

The month's progress is kept for at most a minute; what a supervisor acts on at once (inspectors who cannot go, the
draw, deletions and freezes) is read live on every request. The year's (coverage, categories, problems by region /
industry / risk, rectification outcomes, warning signs …) each aggregate hundreds of thousands of rows at 1 000 000
inspections, which costs seconds, not milliseconds, however good the indexes. They change slowly, so the page shows
the last computed figures with their time ("截至 12:40") while the worker recomputes them once they are older than
``DASHBOARD_CACHE_SECONDS`` (stale-while-revalidate). Only the very first request of a scope finds none: the year's
are then computed by the worker while the page shows the rest and a placeholder that loads them when ready
(``wait=False``).

The figures live in the table ``dashboard_figures`` (one row per kind and scope, the value as JSON), so every app
server and every worker process reads the same copy and a restart loses nothing. A computation is named
(:func:`figures`: ``"year"``, ``"month"``) so that the worker can run it from its name and arguments (the queue
task ``dashboard.refresh``, defined in :mod:`webapp.worker`); it is asked for at most once a minute per scope
(``requested_at``). ``DASHBOARD_CACHE_SECONDS = 0`` (the tests) computes on every request.

The JSON holds plain values, dates and the dataclasses of the ``webapp`` package the queries return; it is decoded
into those classes only (no pickle: a value read from the database cannot make the app run arbitrary code).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp import queue
from webapp.dashboard.models import DashboardFigures
from webapp.db import utcnow
from webapp.extensions import db

log = logging.getLogger(__name__)

TASK = "dashboard.refresh"  # the queue task (defined in webapp.worker) that runs :func:`refresh`
ASK_AGAIN_AFTER = dt.timedelta(seconds=60)  # a refresh asked of the worker is not asked again sooner


@dataclass
class Entry:
    value: Any
    computed_at: dt.datetime
    seconds: float  # how long the computation took


_kinds: dict[str, Callable[..., Any]] = {}


def figures(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the computation ``name``: ``fn(*args)`` of plain arguments (role, organisation id …), independent
    of the request (the worker runs it)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _kinds[name] = fn
        return fn

    return register


def _now() -> dt.datetime:
    """The one "now" (``webapp.db.utcnow``); a seam for the tests' clock."""
    return utcnow()


def _key(name: str, args: tuple) -> str:
    return name + ":" + json.dumps(list(args), ensure_ascii=False, separators=(",", ":"))


def _compute(name: str, args: tuple) -> Entry:
    start = _now()
    value = _kinds[name](*args)
    return Entry(value, start, (_now() - start).total_seconds())


def get(name: str, args: tuple, max_age: int | None = None, wait: bool = True) -> Entry | None:
    """The stored figures ``name`` of ``args``; a refresh is asked of the worker when they are stale.

    ``max_age`` (seconds) caps ``DASHBOARD_CACHE_SECONDS`` for figures that must stay fresher. With
    ``wait=False`` figures never computed yet are asked of the worker and ``None`` returned at once (the page shows
    a placeholder that asks again); with ``wait=True`` they are computed here and stored.
    """
    ttl = current_app.config.get("DASHBOARD_CACHE_SECONDS", 300)
    if max_age is not None:
        ttl = min(ttl, max_age)
    if ttl <= 0:
        return _compute(name, args)
    key = _key(name, args)
    table = DashboardFigures.__table__
    row = db.session.execute(
        select(table.c.value, table.c.computed_at, table.c.seconds).where(table.c.key == key)
    ).first()
    if row is None or row.value is None or row.computed_at is None:
        if not wait:
            _ask(key, name, args)
            return None
        entry = _compute(name, args)
        _store(key, entry)
        return entry
    entry = Entry(decode(row.value), row.computed_at, row.seconds)
    if (_now() - entry.computed_at).total_seconds() > ttl:
        _ask(key, name, args)
    return entry


def _ask(key: str, name: str, args: tuple) -> None:
    """Ask the worker to recompute ``key``, unless that was asked less than a minute ago (by any server)."""
    table = DashboardFigures.__table__
    now = _now()
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table).values(key=key, value=None, seconds=0.0, requested_at=now))
        asked = True
    except IntegrityError:
        with db.engine.begin() as conn:
            asked = (
                conn.execute(
                    update(table)
                    .where(
                        table.c.key == key,
                        or_(table.c.requested_at.is_(None), table.c.requested_at < now - ASK_AGAIN_AFTER),
                    )
                    .values(requested_at=now)
                ).rowcount
                == 1
            )
    if asked:
        try:
            queue.enqueue(TASK, name, list(args), now.isoformat())
        except Exception:  # the queue is unreachable: keep showing what there is; asked again in a minute
            log.exception("could not ask the worker to refresh %s", key)


def _store(key: str, entry: Entry) -> None:
    table = DashboardFigures.__table__
    values = {"value": encode(entry.value), "computed_at": entry.computed_at, "seconds": entry.seconds}
    with db.engine.begin() as conn:
        if conn.execute(update(table).where(table.c.key == key).values(**values)).rowcount:
            return
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table).values(key=key, **values))
    except IntegrityError:  # stored meanwhile by another server: ours is as fresh
        pass


def refresh(name: str, args: list, asked_at: str | None = None) -> None:
    """Compute and store the figures (the worker's task); skipped when stored since they were asked for."""
    key = _key(name, tuple(args))
    if asked_at:
        table = DashboardFigures.__table__
        computed_at = db.session.execute(select(table.c.computed_at).where(table.c.key == key)).scalar()
        db.session.rollback()
        if computed_at is not None and computed_at >= dt.datetime.fromisoformat(asked_at):
            return
    entry = _compute(name, tuple(args))
    db.session.rollback()  # end the read transaction of the computation
    _store(key, entry)


def clear() -> None:
    """Forget every stored figure (tests; after a change that makes them wrong)."""
    with db.engine.begin() as conn:
        conn.execute(delete(DashboardFigures.__table__))


# ------------------------------------------------------------------------------------------- the JSON


def _encode(o: Any) -> Any:
    if o is None or (isinstance(o, (bool, int, float, str)) and not isinstance(o, Enum)):
        return o
    if isinstance(o, Enum):
        return _encode(o.value)
    if isinstance(o, dt.datetime):
        return {"__datetime__": o.isoformat()}
    if isinstance(o, dt.date):
        return {"__date__": o.isoformat()}
    if isinstance(o, Decimal):
        return float(o)
    if is_dataclass(o) and not isinstance(o, type):
        cls = type(o)
        return {
            "__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {f.name: _encode(getattr(o, f.name)) for f in fields(o)},
        }
    if isinstance(o, dict):
        return {"__map__": [[_encode(k), _encode(v)] for k, v in o.items()]}
    if isinstance(o, (list, tuple)):
        return [_encode(v) for v in o]
    raise TypeError(f"cannot store {type(o).__name__} in the dashboard figures")


def encode(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))


def _dataclass(name: str) -> type:
    module, _, qualname = name.partition(":")
    if not module.startswith("webapp.") or "." in qualname:
        raise ValueError(f"not a figures class: {name}")
    cls = getattr(importlib.import_module(module), qualname)
    if not (isinstance(cls, type) and is_dataclass(cls)):
        raise ValueError(f"not a figures class: {name}")
    return cls


def _decode(o: Any) -> Any:
    if isinstance(o, list):
        return [_decode(v) for v in o]
    if not isinstance(o, dict):
        return o
    if "__datetime__" in o:
        return dt.datetime.fromisoformat(o["__datetime__"])
    if "__date__" in o:
        return dt.date.fromisoformat(o["__date__"])
    if "__map__" in o:
        return {_hashable(_decode(k)): _decode(v) for k, v in o["__map__"]}
    if "__dataclass__" in o:
        cls = _dataclass(o["__dataclass__"])
        obj = cls.__new__(cls)
        for k, v in o["fields"].items():
            object.__setattr__(obj, k, _decode(v))  # also for frozen classes
        return obj
    raise ValueError("unknown object in the dashboard figures")


def _hashable(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def decode(text: str) -> Any:
    return _decode(json.loads(text))
