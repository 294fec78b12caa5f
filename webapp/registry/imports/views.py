"""Bulk import and export of the two libraries (routes registered on the registry blueprint).

Thin views over :mod:`webapp.registry.imports.services`: the upload page per library, the job page (polled by
htmx while the import runs), the error workbook, the templates and the unit export.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import IO
from urllib.parse import quote

from flask import Response, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from webapp.auth.permissions import supervisor_required
from webapp.registry.imports import services as importer
from webapp.registry.units.services import visible_orgs
from webapp.registry.views import bp
from webapp.web import render

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 500  # rows of the error table on the page; the .xlsx has them all


class ImportForm(FlaskForm):
    org_id = SelectField(_l("导入到机构"), coerce=int, validate_choice=False)
    file = FileField(_l("选择文件（.xlsx 或 .csv）"), validators=[FileRequired(_l("请选择要导入的文件"))])


def _prefix(kind_name: str) -> str:
    """Endpoint prefix of a library's pages: ``unit_import``, ``inspector_template_xlsx`` …"""
    return "unit" if kind_name == "units" else "inspector"


def _import_page(kind_name: str):
    kind = importer.get_kind(kind_name)
    orgs = visible_orgs(current_user)
    form = ImportForm()
    form.org_id.choices = [(o.id, o.name) for o in orgs]
    if request.method == "GET" and any(o.id == current_user.org_id for o in orgs):
        form.org_id.data = current_user.org_id
    if form.validate_on_submit():
        org = next((o for o in orgs if o.id == form.org_id.data), None)
        upload = form.file.data
        if org is None:
            form.org_id.errors.append(_("请选择您管理的机构"))
        else:
            try:
                job = importer.create_job(kind.name, org, upload.filename, upload.stream, current_user)
            except importer.ImportFileError as e:
                form.file.errors.append(e.message)
            else:
                importer.start_job(job)
                return redirect(url_for("registry.import_job", public_id=job.public_id))
    return render(
        "registry/import.html",
        form=form,
        kind=kind,
        prefix=_prefix(kind.name),
        rules=importer.rules_text(kind),
        jobs=importer.recent_jobs(current_user, kind.name),
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
    job = importer.get_job(current_user, public_id)
    if job is None:
        abort(404)
    errors, warnings = importer.job_entries(job)
    return render(
        "registry/import_job.html",
        block="job",
        job=job,
        kind=importer.get_kind(job.kind),
        prefix=_prefix(job.kind),
        org_name=importer.job_org_name(job),
        errors=errors,
        errors_shown=errors[:ERRORS_SHOWN],
        row_errors=any(e.get("row") for e in errors),
        warnings=warnings,
        running=job.status in importer.RUNNING,
    )


@bp.route("/imports/<public_id>/errors.xlsx")
@supervisor_required
def import_errors(public_id: str):
    job = importer.get_job(current_user, public_id)
    if job is None or job.status != "failed":
        abort(404)
    out = importer.errors_xlsx(job)
    if out is None:
        abort(404)
    stem = job.filename.rsplit(".", 1)[0]
    return _xlsx(out, f"{stem}-错误行.xlsx")


def _xlsx(out: IO[bytes], name: str) -> Response:
    """Stream a spooled workbook in chunks; the temporary file is closed once sent (or abandoned)."""
    size = os.fstat(out.fileno()).st_size

    def chunks():
        try:
            while chunk := out.read(64 * 1024):
                yield chunk
        finally:
            out.close()

    resp = Response(chunks(), mimetype=XLSX_MIME, direct_passthrough=True)
    resp.headers["Content-Length"] = str(size)
    resp.headers["Content-Disposition"] = _attachment(name)
    return resp


def _attachment(name: str) -> str:
    fallback = name.encode("ascii", "ignore").decode() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def _csv(data: bytes, name: str) -> Response:
    resp = Response(data, mimetype="text/csv")
    resp.headers["Content-Disposition"] = _attachment(name)
    return resp


@bp.route("/units/template.xlsx")
@supervisor_required
def unit_template_xlsx():
    return _xlsx(importer.template_xlsx(importer.UNITS), "检查对象名录库导入模板.xlsx")


@bp.route("/units/template.csv")
@supervisor_required
def unit_template_csv():
    return _csv(importer.template_csv(importer.UNITS), "检查对象名录库导入模板.csv")


@bp.route("/inspectors/template.xlsx")
@supervisor_required
def inspector_template_xlsx():
    return _xlsx(importer.template_xlsx(importer.get_kind("inspectors")), "执法检查人员名录库导入模板.xlsx")


@bp.route("/inspectors/template.csv")
@supervisor_required
def inspector_template_csv():
    return _csv(importer.template_csv(importer.get_kind("inspectors")), "执法检查人员名录库导入模板.csv")


@bp.route("/units/export.xlsx")
@supervisor_required
def unit_export():
    out, _count = importer.export_units(current_user, request.args)
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    return _xlsx(out, f"检查对象名录库-{today:%Y%m%d}.xlsx")
