"""Dashboard export jobs: the card's period picker starts a job, the job page shows its progress, then a download."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time

import openpyxl
import pytest
from sqlalchemy import select

from tests.factories import make_inspector, make_item, make_org, make_task, make_unit, make_user
from webapp.audit import AuditEvent
from webapp.auth.models import Role
from webapp.dashboard import exports
from webapp.dashboard.models import ExportJob
from webapp.extensions import db as _db
from webapp.tasks.models import TaskStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def inline_exports(app, monkeypatch):
    """Run export jobs inline (the background thread is tested on its own below)."""
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND", False)


class World:
    pass


@pytest.fixture
def w(db):
    w = World()
    w.a = make_org(code="a", name="偃师区消防救援大队")
    w.other = make_org(code="x", name="外市大队")
    w.version = make_item(w.a).current.id
    w.sup = make_user(w.a, Role.SUPERVISOR, username="zhang")
    w.sup2 = make_user(w.a, Role.SUPERVISOR, username="li")
    w.insp = make_user(w.a, Role.INSPECTOR, username="wang")
    x = make_inspector(w.a, name="王小锋")
    w.nov = [
        make_task(w.a, make_unit(w.a, name=f"十一月单位{i}"), w.version, dt.date(2026, 11, 3 + i), people=[(x, True)])
        for i in range(3)
    ]
    make_task(w.a, make_unit(w.a, name="十月单位"), w.version, dt.date(2026, 10, 20), TaskStatus.SUBMITTED)
    make_task(w.a, make_unit(w.a, name="去年单位"), w.version, dt.date(2025, 6, 1))
    make_task(w.other, make_unit(w.other, name="外市单位"), w.version, dt.date(2026, 11, 4))
    _db.session.commit()
    return w


def start(client, kind="tasks", year="2026", month="", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/dashboard/exports", data={"kind": kind, "year": year, "month": month}, headers=headers)


def latest_job() -> ExportJob:
    _db.session.expire_all()
    return _db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()


def sheet(resp) -> list[list]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_a_month_export_runs_to_done_and_downloads_only_that_month(w, client, login_as):
    login_as(w.sup)
    resp = start(client, month="11")
    assert resp.status_code == 303
    url = resp.headers["Location"]
    job = latest_job()
    assert url.endswith(f"/dashboard/exports/{job.public_id}")
    assert (job.kind, job.params, job.status) == ("tasks", {"year": 2026, "month": 11}, "done")
    assert job.total_rows == job.processed_rows == 3

    page = client.get(url).get_data(as_text=True)
    assert "导出完成：共3行（100%）" in page
    assert "2026年11月" in page
    download = f"/dashboard/exports/{job.public_id}/download"
    assert download in page and "下载" in page

    resp = client.get(download)
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert "%E6%A3%80%E6%9F%A5%E4%BB%BB%E5%8A%A1-202611.xlsx" in resp.headers["Content-Disposition"]  # 检查任务
    rows = sheet(resp)
    assert rows[0][:2] == ["任务编号", "检查对象名称"]
    assert sorted(r[1] for r in rows[1:]) == ["十一月单位0", "十一月单位1", "十一月单位2"]  # no October, no 外市


def test_a_whole_year_export_includes_every_month_of_that_year_only(w, client, login_as):
    login_as(w.sup)
    start(client, year="2026", month="")
    job = latest_job()
    assert job.params == {"year": 2026} and job.total_rows == 4
    names = [r[1] for r in sheet(client.get(f"/dashboard/exports/{job.public_id}/download"))[1:]]
    assert names == ["十月单位", "十一月单位0", "十一月单位1", "十一月单位2"]


def test_progress_is_written_while_rows_are_written(w, client, login_as, monkeypatch):
    seen: list[tuple[str, int, int]] = []
    real_set = exports._set

    def spy(job_id, **values):
        real_set(job_id, **values)
        with _db.engine.connect() as conn:  # what another process polling the job would read
            row = conn.execute(
                select(ExportJob.status, ExportJob.processed_rows, ExportJob.total_rows).where(ExportJob.id == job_id)
            ).one()
        seen.append(tuple(row))

    monkeypatch.setattr(exports, "_set", spy)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    login_as(w.sup)
    start(client, month="11")
    assert seen[0] == ("running", 0, 3)  # counted first
    assert ("running", 2, 3) in seen  # progress from its own transaction
    assert seen[-1] == ("done", 3, 3)


def test_the_job_page_shows_progress_and_polls_while_running(w, client, login_as):
    login_as(w.sup)
    job = ExportJob(kind="results", params={"year": 2026}, status="running", total_rows=2000, processed_rows=500)
    job.created_by_id = w.sup.id
    _db.session.add(job)
    _db.session.commit()
    url = f"/dashboard/exports/{job.public_id}"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<progress[^>]*max="2000" value="500"', page)
    assert "已写入 500 / 2000 行（25%）" in page
    assert 'hx-trigger="every 1s"' in page
    assert "/download" not in page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="job"') and "<html" not in fragment
    assert client.get(url + "/download").status_code == 404  # nothing to download yet


def test_only_the_user_who_started_a_job_sees_or_downloads_it(w, client, login_as):
    login_as(w.sup)
    start(client, month="11")
    job = latest_job()
    client.post("/logout")
    login_as(w.sup2)  # same organisation, also a supervisor
    assert client.get(f"/dashboard/exports/{job.public_id}").status_code == 404
    assert client.get(f"/dashboard/exports/{job.public_id}/download").status_code == 404
    assert job.public_id not in client.get("/dashboard/").get_data(as_text=True)


def test_inspectors_cannot_start_or_see_export_jobs(w, client, login_as):
    login_as(w.sup)
    start(client, month="11")
    job = latest_job()
    client.post("/logout")
    login_as(w.insp)
    assert start(client).status_code == 403
    assert client.get(f"/dashboard/exports/{job.public_id}").status_code == 403
    assert client.get(f"/dashboard/exports/{job.public_id}/download").status_code == 403
    assert _db.session.scalar(select(ExportJob.id).where(ExportJob.created_by_id == w.insp.id)) is None


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_bad_period_is_refused_with_422_keeping_the_choice(w, client, login_as, htmx):
    login_as(w.sup)
    resp = start(client, kind="results", year="2026", month="13", htmx=htmx)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "请选择全年或1至12月" in body
    assert '<option value="2026" selected>' in body
    assert re.search(r'class="btn block primary" type="submit" name="kind" value="results"', body)
    assert ("<html" in body) is not htmx
    assert latest_job() is None

    resp = start(client, kind="results", year="1999", month="3", htmx=htmx)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "请选择有效的年份" in body and '<option value="3" selected>' in body
    assert latest_job() is None


def test_htmx_start_redirects_with_hx_redirect(w, client, login_as):
    login_as(w.sup)
    resp = start(client, kind="rectifications", month="11", htmx=True)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"] == f"/dashboard/exports/{latest_job().public_id}"


def test_the_export_is_audited_with_its_job(w, client, login_as):
    login_as(w.sup)
    start(client, month="11")
    job = latest_job()
    ev = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.tasks")).one()
    assert ev.actor_id == w.sup.id
    assert json.loads(ev.data) == {"rows": 3, "filters": {"year": 2026, "month": 11}, "job": job.public_id}


def test_a_failed_export_says_so_in_chinese(w, client, login_as, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "export", broken)
    login_as(w.sup)
    url = start(client, month="11").headers["Location"]
    job = latest_job()
    assert job.status == "failed" and job.finished_at is not None and job.storage_key is None
    page = client.get(url).get_data(as_text=True)
    assert "导出失败，未生成文件。请稍后重试" in page
    assert 'hx-trigger="every 1s"' not in page
    assert client.get(url + "/download").status_code == 404
    assert "导出失败" in client.get("/dashboard/").get_data(as_text=True)  # in the recent jobs on the card


def test_a_job_no_worker_took_for_30_minutes_is_marked_failed(w, client, login_as):
    login_as(w.sup)
    job = ExportJob(kind="tasks", params={"year": 2026}, status="pending", created_by_id=w.sup.id)
    job.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    _db.session.add(job)
    _db.session.commit()
    page = client.get(f"/dashboard/exports/{job.public_id}").get_data(as_text=True)
    assert "导出超过30分钟仍未完成" in page
    assert latest_job().status == "failed"


def dead_worker_job(w, minutes_ago: int = 2) -> ExportJob:
    """An export as a worker killed mid-run leaves it: running, no sign of life for a while."""
    job = ExportJob(kind="tasks", params={"year": 2026}, status="running", created_by_id=w.sup.id)
    job.total_rows, job.processed_rows = 2000, 500
    job.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    _db.session.add(job)
    _db.session.commit()
    return job


def test_finding_6_an_export_whose_worker_died_is_failed_on_its_page_and_on_the_card(w, client, login_as):
    login_as(w.sup)
    dead_worker_job(w)
    card = client.get("/dashboard/").get_data(as_text=True)
    assert "导出失败" in card and "进行中" not in card
    job = latest_job()
    assert job.status == "failed"
    page = client.get(f"/dashboard/exports/{job.public_id}").get_data(as_text=True)
    assert "后台处理中断" in page and "请重新导出" in page
    assert 'hx-trigger="every 1s"' not in page and "导出会在后台继续" not in page


def test_finding_6_the_minute_check_fails_a_dead_export_without_anyone_looking(w, db):
    from webapp import worker

    dead, alive = dead_worker_job(w), dead_worker_job(w, minutes_ago=0)
    worker.check_jobs.call_local()
    _db.session.expire_all()
    assert (_db.session.get(ExportJob, dead.id).status, _db.session.get(ExportJob, alive.id).status) == (
        "failed",
        "running",
    )


def test_the_card_offers_years_with_data_and_lists_recent_jobs(w, client, login_as):
    login_as(w.sup)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert 'action="/dashboard/exports"' in html and 'name="csrf_token"' in html
    this_year = dt.date.today().year
    assert f'<option value="{this_year}" selected>' in html
    assert '<option value="2025">' in html  # a year with data
    assert '<option value="" selected>全年</option>' in html
    start(client, month="11")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "最近的导出" in html and "检查任务 · 2026年11月" in html
    assert f"/dashboard/exports/{latest_job().public_id}" in html


def test_a_large_export_runs_in_the_background_with_progress(app, w, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_BACKGROUND", True)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 200)
    for i in range(1200):
        make_task(w.a, make_unit(w.a), w.version, dt.date(2024, 1 + i % 12, 1 + i % 28))
    _db.session.commit()
    login_as(w.sup)
    url = start(client, year="2024").headers["Location"]
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen.append(body)
        if "导出完成" in body or "导出失败" in body:
            break
        time.sleep(0.05)
    assert "导出完成：共1200行（100%）" in seen[-1]
    rows = sheet(client.get(url + "/download"))
    assert len(rows) == 1201
