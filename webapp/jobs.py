"""The one background-job runner: a job row (an import, a dashboard export …) worked through by a daemon thread.

A job is a database row with ``status`` (``pending`` → ``running`` → ``done`` | ``failed``), ``created_at`` and
``finished_at``. The request creates and commits the row, then :func:`start_in_background` runs ``run(job_id)``
in a daemon thread with its own app context and the request's locale (or right here when the app's config key
is false, as in tests). Progress goes through :func:`set_row`, each write in its own short transaction, so any
process polling the job sees it while the job's own data stays one transaction. A job still pending or running
:data:`STALE_AFTER` after it was created lost its worker (a restart): :func:`expire_if_stale` marks it failed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from sqlalchemy import update

from webapp.db import utcnow
from webapp.extensions import db

log = logging.getLogger(__name__)

RUNNING = ("pending", "running")
STALE_AFTER = dt.timedelta(minutes=30)


def set_row(model: type, row_id: int, **values: Any) -> None:
    """Write columns of one row in a separate short transaction (visible at once to anyone polling)."""
    table = model.__table__  # type: ignore[attr-defined]  # every mapped model has one
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))


def _run_in_thread(
    app: Flask, run: Callable[[int], Any], crashed: Callable[[int], None], job_id: int, locale: str
) -> None:
    with app.app_context(), force_locale(locale):
        try:
            run(job_id)
        except Exception:
            log.exception("background job %s (%s) crashed", job_id, getattr(run, "__module__", ""))
            crashed(job_id)


def start_in_background(
    run: Callable[[int], Any], crashed: Callable[[int], None], job_id: int, *, name: str, config_key: str
) -> threading.Thread | None:
    """Run ``run(job_id)`` in a daemon thread with its own app context and the request's locale, or right here
    when ``app.config[config_key]`` is false (tests). ``crashed(job_id)`` marks the job failed if it raises.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy
    if not app.config.get(config_key, True):
        run(job_id)
        return None
    locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
    thread = threading.Thread(target=_run_in_thread, args=(app, run, crashed, job_id, locale), name=name)
    thread.daemon = True
    thread.start()
    return thread


def is_stale(job: Any, now: dt.datetime | None = None) -> bool:
    """Still pending/running :data:`STALE_AFTER` after it was created: its worker is gone."""
    return job.status in RUNNING and (now or utcnow()) - job.created_at >= STALE_AFTER


def expire_if_stale(job: Any, now: dt.datetime | None = None, **values: Any) -> bool:
    """Mark a stale job failed (``values``: the job's own error columns), in the session: the caller commits."""
    if not is_stale(job, now):
        return False
    job.status = "failed"
    job.finished_at = utcnow()
    for name, value in values.items():
        setattr(job, name, value)
    return True
