"""The one background-job runner: a job row (an import, a dashboard export …) worked through on the job queue.

A job is a database row with ``status`` (``pending`` → ``running`` → ``done`` | ``failed``), ``created_at``,
``heartbeat_at`` and ``finished_at``. The request creates and commits the row, then :func:`start` enqueues the
job's task on :mod:`webapp.queue` (a worker process runs it), or runs it right here when the app's config key is
false (as in tests). Progress goes through :func:`set_row`, each write in its own short transaction, so any
process polling the job sees it while the job's own data stays one transaction.

A worker takes a job with :func:`claim` (pending → running, once) and keeps its :func:`heartbeat` while it runs
(every :data:`HEARTBEAT_EVERY`). A running job whose last sign of life is older than :data:`STUCK_AFTER` lost its
worker (killed, crashed, the machine restarted): :func:`fail_stuck` marks it failed — the worker's check every
minute, and any page that shows the job. A job still pending :data:`STALE_AFTER` after it was created was never
taken by a worker (none running, or the queue lost it): failed too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import OperationalError

from webapp import queue
from webapp.db import utcnow
from webapp.extensions import db

log = logging.getLogger(__name__)

RUNNING = ("pending", "running")
STALE_AFTER = dt.timedelta(minutes=30)  # pending that long: no worker took it
HEARTBEAT_EVERY = 10.0  # seconds between a running job's signs of life
STUCK_AFTER = dt.timedelta(seconds=45)  # running without a sign of life that long: its worker is gone


def set_row(model: type, row_id: int, **values: Any) -> None:
    """Write columns of one row in a separate short transaction (visible at once to anyone polling)."""
    table = model.__table__  # type: ignore[attr-defined]  # every mapped model has one
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))


def start(task: str, run: Callable[[int], Any], job_id: int, *, config_key: str) -> None:
    """Enqueue the job's ``task`` for a worker (``app.config[config_key]``, default on) or run ``run(job_id)``
    right here (tests). The caller has committed the job row."""
    if not current_app.config.get(config_key, True):
        run(job_id)
        return
    queue.enqueue(task, job_id)


def claim(model: type, job_id: int) -> bool:
    """Take a pending job (→ running, heartbeat now); False if it is not pending any more (taken, expired)."""
    table = model.__table__  # type: ignore[attr-defined]
    now = utcnow()
    with db.engine.begin() as conn:
        taken = conn.execute(
            update(table)
            .where(table.c.id == job_id, table.c.status == "pending")
            .values(status="running", heartbeat_at=now)
        ).rowcount
    return taken == 1


@contextmanager
def heartbeat(model: type, job_id: int, every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """While the block runs, write the job's ``heartbeat_at`` every ``every`` seconds from a thread.

    The thread dies with the process, so a killed worker's job stops beating. A beat that cannot be written
    (SQLite is locked by the job's own big write) is skipped: the checks cannot write either until it commits.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
    stop = threading.Event()

    def beat() -> None:
        with app.app_context():
            while not stop.wait(every):
                try:
                    set_row(model, job_id, heartbeat_at=utcnow())
                except Exception:  # a missed beat is not fatal: the next one tries again
                    log.warning("heartbeat of %s %s not written", model.__name__, job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)


def stuck_condition(table: Any, now: dt.datetime) -> Any:
    """SQL: the job lost its worker (running without a sign of life, or pending for too long)."""
    last_sign = func.coalesce(table.c.heartbeat_at, table.c.created_at)
    return or_(
        and_(table.c.status == "running", last_sign < now - STUCK_AFTER),
        and_(table.c.status == "pending", table.c.created_at < now - STALE_AFTER),
    )


def fail_stuck(
    model: type,
    values: Callable[[str], dict[str, Any]],
    *,
    ids: list[int] | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """Mark failed every job of ``model`` (only ``ids`` if given) that lost its worker; their ids.

    ``values(status)`` gives the job's own error columns for a job that was ``running`` or ``pending``. Each
    update is one conditional statement in its own short transaction, so a job that finishes meanwhile is left
    alone; when the database is busy (SQLite locked by a running import) nothing is marked and the next check
    tries again.
    """
    table = model.__table__  # type: ignore[attr-defined]
    now = now or utcnow()
    failed: list[int] = []
    try:
        with db.engine.begin() as conn:
            for status in RUNNING:
                where = [stuck_condition(table, now), table.c.status == status]
                if ids is not None:
                    if not ids:
                        return []
                    where.append(table.c.id.in_(ids))
                stmt = (
                    update(table)
                    .where(*where)
                    .values(status="failed", finished_at=utcnow(), **values(status))
                    .returning(table.c.id)
                )
                failed.extend(conn.execute(stmt).scalars())
    except OperationalError:
        log.warning("could not check %s for stuck jobs (database busy); the next check will", model.__name__)
        return []
    if failed:
        log.warning("%s %s lost their worker: marked failed", model.__name__, failed)
    return failed
