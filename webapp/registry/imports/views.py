"""Bulk import and export of the two libraries (routes registered on the registry blueprint).

Thin views over :mod:`webapp.registry.imports.services` (the engine and its jobs), ``queries`` (job reads),
``kinds`` and ``workbooks``: the upload page per library, the job page (polled by htmx while the import runs),
the error workbook, the templates and the unit export (:mod:`webapp.registry.units.export`).
"""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from webapp import calendar, jobs
from webapp.auth.permissions import supervisor_required
from webapp.extensions import db
from webapp.registry.imports import queries, services, workbooks
from webapp.registry.imports.kinds import INSPECTORS, UNITS, get_kind, rules_text
from webapp.registry.imports.readers import ImportFileError
from webapp.registry.models import ImportJob
from webapp.registry.queries import visible_orgs
from webapp.registry.units.export import export_units
from webapp.registry.views import bp
from webapp.web import apply_errors, csv_response, render, xlsx_response

ERRORS_SHOWN = 500  # rows of the error table on the page; the .xlsx has them all


class ImportForm(FlaskForm):
    org_id = SelectField(_l("导入到机构"), coerce=int, validate_choice=False)
    file = FileField(_l("选择文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择要导入的文件"))])


def _prefix(kind_name: str) -> str:
    """Endpoint prefix of a library's pages: ``unit_import``, ``inspector_template_xlsx`` …"""
    return "unit" if kind_name == "units" else "inspector"


def _job_or_404(public_id: str) -> ImportJob:
    """The job the user may see (else 404); one whose worker is gone is marked failed first."""
    job = queries.get_job(current_user, public_id)
    if job is None:
        abort(404)
    if job.status in jobs.RUNNING and services.fail_stuck_jobs([job.id]):
        db.session.refresh(job)
    return job


def _import_page(kind_name: str):
    kind = get_kind(kind_name)
    orgs = visible_orgs(current_user)
    form = ImportForm()
    form.org_id.choices = [(o.id, o.name) for o in orgs]
    if request.method == "GET" and any(o.id == current_user.org_id for o in orgs):
        form.org_id.data = current_user.org_id
    if form.validate_on_submit():
        org = next((o for o in orgs if o.id == form.org_id.data), None)
        upload = form.file.data
        if org is None:
            apply_errors(form, {"org_id": _("请选择您管理的机构")})
        else:
            try:
                job = services.create_job(kind.name, org, upload.filename, upload.stream, current_user)
            except ImportFileError as e:
                apply_errors(form, e.errors)
            else:
                db.session.commit()
                services.start_job(job)
                return redirect(url_for("registry.import_job", public_id=job.public_id))
    return render(
        "registry/import.html",
        form=form,
        kind=kind,
        prefix=_prefix(kind.name),
        rules=rules_text(kind),
        jobs=queries.recent_jobs(current_user, kind.name),
        max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        max_rows=current_app.config["IMPORT_MAX_ROWS"],
        status=422 if form.errors else 200,
    )


@bp.route("/units/import", methods=["GET", "POST"])
@supervisor_required
def unit_import():
    return _import_page("units")


@bp.route("/inspectors/import", methods=["GET", "POST"])
@supervisor_required
def inspector_import():
    return _import_page("inspectors")


@bp.route("/imports/<public_id>")
@supervisor_required
def import_job(public_id: str):
    job = _job_or_404(public_id)
    errors, warnings = queries.job_entries(job)
    return render(
        "registry/import_job.html",
        block="job",
        job=job,
        kind=get_kind(job.kind),
        prefix=_prefix(job.kind),
        org_name=queries.job_org_name(job),
        errors=errors,
        errors_shown=errors[:ERRORS_SHOWN],
        row_errors=any(e.get("row") for e in errors),
        warnings=warnings,
        running=job.status in jobs.RUNNING,
    )


@bp.route("/imports/<public_id>/errors.xlsx")
@supervisor_required
def import_errors(public_id: str):
    job = _job_or_404(public_id)
    if job.status != "failed":
        abort(404)
    out = workbooks.errors_xlsx(job)
    if out is None:
        abort(404)
    stem = job.filename.rsplit(".", 1)[0]
    return xlsx_response(out, f"{stem}-错误行.xlsx")


@bp.route("/units/template.xlsx")
@supervisor_required
def unit_template_xlsx():
    return xlsx_response(workbooks.template_xlsx(UNITS), "检查对象名录库导入模板.xlsx")


@bp.route("/units/template.csv")
@supervisor_required
def unit_template_csv():
    return csv_response(workbooks.template_csv(UNITS), "检查对象名录库导入模板.csv")


@bp.route("/inspectors/template.xlsx")
@supervisor_required
def inspector_template_xlsx():
    return xlsx_response(workbooks.template_xlsx(INSPECTORS), "执法检查人员名录库导入模板.xlsx")


@bp.route("/inspectors/template.csv")
@supervisor_required
def inspector_template_csv():
    return csv_response(workbooks.template_csv(INSPECTORS), "执法检查人员名录库导入模板.csv")


@bp.route("/units/export.xlsx")
@supervisor_required
def unit_export():
    out, _count = export_units(current_user, request.args)
    db.session.commit()  # the audit event
    return xlsx_response(out, f"检查对象名录库-{calendar.today():%Y%m%d}.xlsx")
