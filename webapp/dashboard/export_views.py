"""The dashboard's exports: the card's form starts a background export job (progress page, download), and the
direct ``/dashboard/export/<kind>.xlsx`` routes that scripts use. Logic in webapp.dashboard.exports."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_login import current_user

from webapp import calendar
from webapp.auth.permissions import supervisor_required
from webapp.dashboard import exports
from webapp.dashboard.views import bp
from webapp.web import after_post, render, xlsx_response


def _send(kind: str):
    out, _count, name = exports.export(kind, current_user, request.args)
    return xlsx_response(out, name)


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


# ----------------------------------------------------------------------------------- export jobs


def export_card(chosen: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """What the export card shows: the period picker (with the user's choice kept) and their recent jobs."""
    today = calendar.today()
    years = exports.year_choices(current_user, today)
    chosen = chosen or {"kind": "", "year": str(today.year), "month": ""}
    return {
        "years": years,
        "chosen": chosen,
        "errors": errors or {},
        "jobs": exports.recent_jobs(current_user),
        "titles": exports.titles(),
        "period_label": exports.period_label,
    }


@bp.context_processor
def _export_card_context() -> dict[str, Any]:
    # The card is included in dashboard/index.html (rendered by views.index): give it its data lazily.
    return {"export_card": export_card}


@bp.route("/exports", methods=["POST"])
@supervisor_required
def export_start():
    form = request.form
    try:
        kind, params = exports.clean_request(form)
    except exports.PeriodError as e:
        chosen = {k: str(form.get(k) or "") for k in ("kind", "year", "month")}
        return render("dashboard/export_jobs.html", block="card", card=export_card(chosen, e.errors), status=422)
    job = exports.create_job(kind, params, current_user)
    exports.start_job(job)
    return after_post(url_for("dashboard.export_job", public_id=job.public_id))


@bp.route("/exports/<public_id>")
@supervisor_required
def export_job(public_id: str):
    job = exports.get_job(current_user, public_id)
    if job is None:
        abort(404)
    percent = int(job.processed_rows * 100 / job.total_rows) if job.total_rows else 0
    return render(
        "dashboard/export_job.html",
        block="job",
        job=job,
        title=exports.titles().get(job.kind, job.kind),
        period=exports.period_label(job.params),
        running=job.status in ("pending", "running"),
        percent=min(percent, 100),
    )


@bp.route("/exports/<public_id>/download")
@supervisor_required
def export_download(public_id: str):
    job = exports.get_job(current_user, public_id)
    if job is None or job.status != "done" or not job.storage_key:
        abort(404)
    try:
        out = exports.open_file(job)
    except FileNotFoundError:
        abort(404)
    return xlsx_response(out, job.filename)
