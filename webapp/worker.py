"""The worker (an assembly module): the job queue's tasks and its schedule, and ``flask worker`` that runs them.

``make run`` starts it beside the app (Procfile, honcho); production runs ``flask --app wsgi worker`` under systemd
(docs/deployment.md). Tasks, by the name code below enqueues them with (:func:`webapp.queue.enqueue`):

- ``imports.run`` / ``exports.run``: an import or a dashboard export (webapp.jobs' runner);
- ``dashboard.refresh``: the dashboard's figures of one scope, stored for every app server;
- every minute, ``jobs.check``: jobs whose worker died (killed, crashed, restarted) are marked failed;
- daily at 00:30 Beijing time: ``daily.publication`` (``flask publication run``), ``daily.reinspections`` (the
  due 复查 tasks of every organisation), ``daily.draw_close`` (closes every published draw whose month after the
  period has ended: its replacement secret is revealed) and ``daily.audit_anchor`` (the audit chain's head written
  outside the database). Each is idempotent: a day missed while no worker ran is caught up by the next run.
"""

from __future__ import annotations

import logging

import click
from flask.cli import with_appcontext

from webapp import audit, calendar, queue
from webapp.dashboard import cache as dashboard_cache
from webapp.dashboard import exports
from webapp.draw import services as draw_services
from webapp.extensions import db
from webapp.publication import services as publication
from webapp.rectification import services as rectification
from webapp.registry.imports import services as imports

log = logging.getLogger(__name__)

# 00:30 in Asia/Shanghai (UTC+8, no summer time) is 16:30 UTC; huey's schedule runs in UTC.
DAILY = queue.crontab(hour="16", minute="30")
EVERY_MINUTE = queue.crontab(minute="*")


@queue.task(imports.TASK)
def run_import(job_id: int) -> None:
    imports.run_job(job_id)


@queue.task(exports.TASK)
def run_export(job_id: int) -> None:
    exports.run_job(job_id)


@queue.task(dashboard_cache.TASK)
def refresh_dashboard(name: str, args: list, asked_at: str | None = None) -> None:
    dashboard_cache.refresh(name, args, asked_at)


@queue.periodic("jobs.check", EVERY_MINUTE)
def check_jobs() -> None:
    """Mark failed the imports and exports whose worker is gone (and delete their uploaded files)."""
    imports.fail_stuck_jobs()
    exports.fail_stuck_jobs()


@queue.periodic("daily.publication", DAILY)
def publish_due() -> tuple[int, int]:
    """Stamp as published what came due (``flask publication run``): (results, penalty decisions)."""
    today = calendar.today()
    results = penalties = 0
    while True:
        r, p = publication.run_batch(today)
        db.session.commit()
        results, penalties = results + r, penalties + p
        if not r and not p:
            break
    log.info("%d result(s) and %d penalty decision(s) published at their deadline", results, penalties)
    return results, penalties


@queue.periodic("daily.reinspections", DAILY)
def create_reinspections() -> int:
    """The due 复查 tasks of every organisation (``flask rectification reinspections``)."""
    tasks = rectification.create_due_reinspections(None)
    db.session.commit()
    log.info("%d re-inspection task(s) created", len(tasks))
    return len(tasks)


@queue.periodic("daily.draw_close", DAILY)
def close_draws() -> int:
    """Close the draws due (``webapp.draw.services.close_due``): replacement secrets revealed, no more 递补."""
    closed = draw_services.close_due(calendar.today())
    db.session.commit()
    log.info("%d draw(s) closed at the end of the month after their period", len(closed))
    return len(closed)


@queue.periodic("daily.audit_anchor", DAILY)
def anchor_audit() -> str:
    """Write the audit chain's head outside the database (``flask audit-anchor``); the anchor's storage key."""
    row = audit.anchor()
    db.session.commit()
    return row.storage_key


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Tasks run at the same time (threads).")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the job queue's worker: imports, exports, dashboard figures, the minute check and the daily work."""
    if queue.huey.immediate:
        raise click.UsageError("QUEUE_IMMEDIATE is on: tasks run where they are enqueued, there is nothing to work")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()


COMMANDS: list[click.Command] = [worker_command]
