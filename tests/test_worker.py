"""The job queue's worker: a real worker process killed with ``kill -9`` mid-import (finding 6), and the daily work
on its schedule."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import textwrap
import time

import openpyxl
import pytest
from huey.storage import SqliteStorage

from tests.factories import make_org, make_user
from tests.helpers import TEST_DATABASE_URL, suite_now
from webapp import jobs, queue, storage, worker
from webapp.auth.models import Role
from webapp.extensions import db as _db
from webapp.registry.imports import services
from webapp.registry.models import ImportJob
from webapp.registry.units.columns import UNIT_COLUMNS

# A worker whose imports never finish validating (as a long import would), beating its heart every 0.2 s.
WORKER = textwrap.dedent(
    """
    import datetime as dt
    import os
    import threading

    if os.environ.get("WORKER_NOW"):  # the suite runs at a test clock (SUIJIAN_TEST_NOW): the worker shares it
        import time_machine

        time_machine.travel(dt.datetime.fromisoformat(os.environ["WORKER_NOW"]), tick=True).start()
    from webapp import jobs
    from webapp.registry.imports import services

    def forever(*args, **kwargs):
        threading.Event().wait(3600)

    services.validate = forever
    jobs.HEARTBEAT_EVERY = 0.2
    from webapp import create_app, queue

    app = create_app()
    with app.app_context():
        queue.huey.create_consumer(workers=1, worker_type="thread", periodic=False).run()
    """
)


@pytest.fixture
def real_queue(app, tmp_path, monkeypatch):
    """The test app enqueues into a SQLite queue file that a worker process reads."""
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    monkeypatch.setitem(app.config, "QUEUE_IMMEDIATE", False)
    monkeypatch.setattr(queue.huey, "_immediate", False)
    monkeypatch.setattr(queue.huey, "storage", SqliteStorage(queue.NAME, filename=str(tmp_path / "queue.db")))
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND", True)
    return url


def wait_for(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _db.session.expire_all()
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"gave up waiting: {what}")


def test_finding_6_an_import_whose_worker_was_killed_is_failed_and_its_file_deleted(
    app, client, db, login_as, real_queue
):
    org = make_org(code="yanshi", name="偃师区消防救援大队")
    user = make_user(org, Role.SUPERVISOR)
    db.session.commit()
    login_as(user)
    wb = openpyxl.Workbook()
    wb.active.append([c.header for c in UNIT_COLUMNS])
    wb.active.append(["甲商贸有限公司"])
    data = io.BytesIO()
    wb.save(data)
    resp = client.post(
        "/registry/units/import",
        data={"org_id": str(org.id), "file": (io.BytesIO(data.getvalue()), "units.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    job = db.session.query(ImportJob).one()
    name = services.job_upload(job)
    assert job.status == "pending" and storage.object_exists(name)  # queued: no web worker runs it

    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "QUEUE_URL": real_queue, "QUEUE_IMMEDIATE": "0"}
    if suite_now() is not None:
        env["WORKER_NOW"] = dt.datetime.now(dt.UTC).isoformat()  # this process's (travelled) now
    proc = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=app.root_path + "/..")
    try:
        wait_for(lambda: db.session.get(ImportJob, job.id).status == "running", "the worker takes the job")
        first = db.session.get(ImportJob, job.id).heartbeat_at
        wait_for(lambda: db.session.get(ImportJob, job.id).heartbeat_at > first, "a heartbeat")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)

    db.session.expire_all()
    page = client.get(f"/registry/imports/{job.public_id}").get_data(as_text=True)
    assert "正在校验" in page  # it only just stopped beating

    # a minute later (no sleeping here: the clock of the check is moved on) the worker's check has failed it
    later = dt.datetime.now(dt.UTC) + jobs.STUCK_AFTER + dt.timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jobs, "utcnow", lambda: later)
        worker.check_jobs.call_local()
    db.session.expire_all()  # as the next request's own session would see it
    page = client.get(f"/registry/imports/{job.public_id}").get_data(as_text=True)
    assert "未导入任何数据：后台处理中断（服务重启或故障），请重新上传文件" in page
    assert "正在校验" not in page and "hx-trigger" not in page
    assert not storage.object_exists(name)


def test_the_daily_work_runs_on_the_queue_schedule():
    daily = {t.__name__ for t in queue.huey._registry._periodic_tasks}
    assert {"jobs.check", "daily.publication", "daily.reinspections", "daily.audit_anchor"} <= daily
    now = dt.datetime(2026, 11, 20, 16, 30)  # UTC = 00:30 in Beijing
    assert worker.DAILY(now) and not worker.DAILY(now + dt.timedelta(minutes=1))
    assert worker.EVERY_MINUTE(now + dt.timedelta(minutes=7))


def test_the_daily_work_creates_due_reinspections_and_publishes(db):
    from tests.factories import add_order, build_order_world
    from webapp.rectification.models import RectificationOrder

    w = build_order_world()
    order = add_order(w.inspection, w.unit)
    order.deadline = dt.date(2000, 1, 1)  # long past
    db.session.commit()
    assert worker.create_reinspections.call_local() == 1
    assert db.session.get(RectificationOrder, order.id).reinspection_task_id is not None
    assert worker.create_reinspections.call_local() == 0  # idempotent
    worker.publish_due.call_local()
    assert worker.publish_due.call_local() == (0, 0)  # idempotent: what came due is published once
    assert worker.anchor_audit.call_local().startswith("audit-anchors/")  # the chain head, outside the database
