"""The dashboard's exports: the card's form starts a background export job (progress page, download), and the
direct ``/dashboard/export/<kind>.xlsx`` and ``.csv`` routes that scripts use. Logic in webapp.dashboard.exports.

Also registers the registry inspector page's ``inspector_activity`` global (``webapp.dashboard.workload``)."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from webapp import jobs
from webapp.auth.permissions import supervisor_required
from webapp.dashboard import exports, workload
from webapp.dashboard.models import ExportJob
from webapp.dashboard.views import bp
from webapp.extensions import db
from webapp.web import after_post, csv_response, render, xlsx_response

bp.record_once(workload.register)


def _send(kind: str):
    out, _count, name = exports.export(kind, current_user, request.args)
    db.session.commit()  # the audit event
    return xlsx_response(out, name)


def _send_csv(kind: str):
    data, _count, name = exports.export_csv(kind, current_user, request.args)
    db.session.commit()  # the audit event
    return csv_response(data, name)


@bp.route("/export/tasks.xlsx")
@supervisor_required
def export_tasks():
    return _send("tasks")


@bp.route("/export/results.xlsx")
@supervisor_required
def export_results():
    return _send("results")


@bp.route("/export/rectifications.xlsx")
@supervisor_required
def export_rectifications():
    return _send("rectifications")


@bp.route("/export/tasks.csv")
@supervisor_required
def export_tasks_csv():
    return _send_csv("tasks")


@bp.route("/export/results.csv")
@supervisor_required
def export_results_csv():
    return _send_csv("results")


@bp.route("/export/rectifications.csv")
@supervisor_required
def export_rectifications_csv():
    return _send_csv("rectifications")


# ----------------------------------------------------------------------------------- export jobs


def _job_or_404(public_id: str) -> ExportJob:
    """The user's own job (else 404); one whose worker is gone is marked failed first."""
    job = exports.get_job(current_user, public_id)
    if job is None:
        abort(404)
    if job.status in jobs.RUNNING and exports.fail_stuck_jobs([job.id]):
        db.session.refresh(job)
    return job


@bp.route("/exports", methods=["POST"])
@supervisor_required
def export_start():
    form = request.form
    try:
        kind, params = exports.clean_request(form)
    except exports.PeriodError as e:
        chosen = {k: str(form.get(k) or "") for k in ("kind", "year", "month")}
        card = exports.export_card(current_user, chosen, e.errors)
        return render("dashboard/export_jobs.html", block="card", card=card, status=422)
    job = exports.create_job(kind, params, current_user)
    db.session.commit()
    exports.start_job(job)
    return after_post(url_for("dashboard.export_job", public_id=job.public_id))


@bp.route("/exports/<public_id>")
@supervisor_required
def export_job(public_id: str):
    job = _job_or_404(public_id)
    percent = int(job.processed_rows * 100 / job.total_rows) if job.total_rows else 0
    return render(
        "dashboard/export_job.html",
        block="job",
        job=job,
        title=exports.titles().get(job.kind, job.kind),
        period=exports.period_label(job.params),
        running=job.status in jobs.RUNNING,
        percent=min(percent, 100),
    )


@bp.route("/exports/<public_id>/download")
@supervisor_required
def export_download(public_id: str):
    job = _job_or_404(public_id)
    if job.status != "done" or not job.storage_key:
        abort(404)
    try:
        out = exports.open_file(job)
    except FileNotFoundError:
        abort(404)
    return xlsx_response(out, job.filename)
