"""On-site pages for the inspectors assigned to a task: task, check-in, notice, checklist, findings, submit."""

from __future__ import annotations

import hashlib
import uuid

from flask import Blueprint, abort, current_app, make_response, redirect, request, url_for
from flask_login import current_user

from webapp.auth.permissions import inspector_required, login_required
from webapp.extensions import db
from webapp.inspections import documents, findings, services, signing
from webapp.inspections import photos as photo_services
from webapp.inspections.forms import FindingEditForm, FindingForm, ResultForm, SupplementForm
from webapp.inspections.labels import ANSWER_LABELS, CATEGORY_LABELS, RESULT_LABELS
from webapp.inspections.models import Answer, Inspection, InspectionStatus
from webapp.inspections.record import (
    Conflict,
    Immutable,
    InspectionError,
    SeenMismatch,
    TaskContext,
    calls_for_order,
    draft_uuid,
)
from webapp.offline.ledger import syncable
from webapp.web import after_post, apply_errors, is_htmx, pdf_response, render

bp = Blueprint("inspections", __name__, url_prefix="/inspections")


def _ctx(public_id: str) -> TaskContext:
    ctx = services.task_context(current_user, public_id)
    if ctx is None:
        abort(404)
    return ctx


def _client_id() -> str | None:
    """The id the phone gave this change: the ``X-Client-Id`` of a queued request, else the form's ``client_uuid``
    (a form posted without JavaScript)."""
    return request.headers.get("X-Client-Id") or request.form.get("client_uuid")


def _draft_uuid(ctx: TaskContext) -> str:
    return draft_uuid(current_app.secret_key or "", ctx.task.public_id, current_user.id)


def _record_context(ctx: TaskContext, **extra):
    insp = ctx.inspection
    result_form = extra.pop("result_form", None)
    if result_form is None:
        result_form = ResultForm(
            formdata=None,
            data={
                "client_uuid": insp.client_uuid if insp else "",
                "result": insp.result.value if insp and insp.result else "",
                "category": insp.category.value if insp and insp.category else "",
                "remarks": insp.remarks if insp else "",
            },
        )
    points = services.points(ctx)
    return {
        "ctx": ctx,
        "task": ctx.task,
        "insp": insp,
        "points": points,
        "point_prefills": findings.unrecorded_fails(insp, points),
        "common_problems": findings.problems(ctx),
        "finding_edit": extra.pop("finding_edit", None),  # (finding public id, the form with its errors)
        "oob": extra.pop("oob", False),
        "answers": services.answers_by_point(insp),
        "can_answer": lambda p: services.can_answer(ctx, p),
        "finding_form": extra.pop("finding_form", None) or FindingForm(formdata=None),
        "result_form": result_form,
        "supplement_form": extra.pop("supplement_form", None) or SupplementForm(formdata=None),
        "versions": services.versions(ctx.task),
        "answer_labels": ANSWER_LABELS,
        "result_labels": RESULT_LABELS,
        "category_labels": CATEGORY_LABELS,
        "new_uuid": str(uuid.uuid4()),
        "fresh_uuid": lambda: str(uuid.uuid4()),  # one per form that creates something
        "submitted": insp is not None and insp.status == InspectionStatus.SUBMITTED,
        "order_allowed": calls_for_order(insp),
        "slots": signing.slots(ctx) if insp else [],
        "proxy_note": signing.proxy_note,
        "sign_errors": {},
        "sign_form": {},
        "pack_draft": False,
        **extra,
    }


@bp.route("/tasks/<public_id>")
@inspector_required
def task(public_id: str):
    ctx = _ctx(public_id)
    return render(
        "inspections/task.html", ctx=ctx, task=ctx.task, insp=ctx.inspection, new_uuid=_draft_uuid(ctx), errors={}
    )


@bp.route("/tasks/<public_id>/start", methods=["POST"])
@inspector_required
@syncable
def start(public_id: str):
    ctx = _ctx(public_id)
    f = request.form
    try:
        services.start(
            current_user,
            ctx,
            f.get("client_uuid"),
            lat=f.get("lat"),
            lon=f.get("lon"),
            accuracy=f.get("accuracy"),
            location_error=f.get("location_error"),
            far_reason=f.get("far_reason"),
            device_time=f.get("device_time"),
            offline=f.get("offline") == "1",
        )
    except InspectionError as exc:
        db.session.rollback()
        ctx = _ctx(public_id)
        return render(
            "inspections/task.html",
            status=exc.status,
            ctx=ctx,
            task=ctx.task,
            insp=ctx.inspection,
            new_uuid=_draft_uuid(ctx),
            errors=exc.errors,
        )
    db.session.commit()
    return after_post(url_for("inspections.record", public_id=public_id))


@bp.route("/tasks/<public_id>/partner", methods=["POST"])
@inspector_required
@syncable
def partner(public_id: str):
    ctx = _ctx(public_id)
    try:
        services.record_partner(current_user, ctx)
    except InspectionError as exc:
        db.session.rollback()
        return _error(exc)
    db.session.commit()
    return after_post(url_for("inspections.record", public_id=public_id))


@bp.route("/tasks/<public_id>/notice")
@inspector_required
def notice(public_id: str):
    ctx = _ctx(public_id)
    return render("inspections/notice.html", ctx=ctx, task=ctx.task, notice=documents.notice_data(ctx))


@bp.route("/tasks/<public_id>/notice.pdf")
@inspector_required
def notice_pdf(public_id: str):
    ctx = _ctx(public_id)
    pdf = documents.notice_pdf(ctx)
    if pdf is None:
        abort(404)
    return pdf_response(pdf, "notice.pdf")


@bp.route("/tasks/<public_id>/record")
@inspector_required
def record(public_id: str):
    ctx = _ctx(public_id)
    if ctx.inspection is None:
        if request.headers.get("X-SuiJian-Pack") != "1":
            return redirect(url_for("inspections.task", public_id=public_id))
        # The day's pack keeps this page for a check-in made offline: an empty draft, never stored (the
        # check-in queued on the task page creates the record, with the same client UUID).
        ctx.inspection = services.empty_draft(ctx, _draft_uuid(ctx))
        return render("inspections/record.html", **_record_context(ctx, pack_draft=True))
    # Logged-in pages are sent with Cache-Control: no-store (webapp/__init__.py), so a reload shows the draft.
    return render("inspections/record.html", **_record_context(ctx))


def _error(exc: InspectionError):
    """The message alone (the record refused the change): 409 when it was submitted meanwhile, else 422."""
    return render("inspections/_error.html", status=exc.status, message=exc.message)


@bp.route("/tasks/<public_id>/answers/<int:point_id>", methods=["POST"])
@inspector_required
@syncable
def answer(public_id: str, point_id: int):
    ctx = _ctx(public_id)
    before = services.answers_by_point(ctx.inspection).get(point_id)
    was_fail = before is not None and before.answer == Answer.FAILS
    try:
        row = services.save_answer(current_user, ctx, point_id, request.form.get("answer"), request.form.get("note"))
    except InspectionError as exc:
        db.session.rollback()
        return _error(exc)
    db.session.commit()
    saved = render("inspections/_saved.html", row=row)
    if is_htmx() and was_fail != (row.answer == Answer.FAILS):
        # 不符合 opens the finding prefilled from the point (or the prompt goes when the answer changes back):
        # the prompts in the findings section come along, swapped out of band
        prompts, _status = render(
            "inspections/record.html", block="point_findings", **_record_context(_ctx(public_id), oob=True)
        )
        return saved[0] + prompts, saved[1]
    return saved


@bp.route("/tasks/<public_id>/findings", methods=["POST"])
@inspector_required
@syncable
def finding_add(public_id: str):
    ctx = _ctx(public_id)
    form = FindingForm()
    try:
        findings.add(
            current_user,
            ctx,
            form.text.data,
            form.legal_basis.data,
            form.point_id.data,
            common_problem=form.common_problem.data,
            client_uuid=_client_id(),
        )
    except InspectionError as exc:
        db.session.rollback()
        if isinstance(exc, (Immutable, Conflict)):
            return _error(exc)
        apply_errors(form, exc.errors)
        ctx = _ctx(public_id)
        return render(
            "inspections/record.html", block="findings", status=422, **_record_context(ctx, finding_form=form)
        )
    db.session.commit()
    if is_htmx():
        return render("inspections/record.html", block="findings", **_record_context(_ctx(public_id)))
    return redirect(url_for("inspections.record", public_id=public_id, _anchor="findings"), code=303)


@bp.route("/tasks/<public_id>/findings/<finding_id>/edit", methods=["POST"])
@inspector_required
@syncable
def finding_edit(public_id: str, finding_id: str):
    """Change a finding's text or basis until submission (its ids, photos and link stay)."""
    ctx = _ctx(public_id)
    finding = findings_of(ctx, finding_id)
    form = FindingEditForm()
    try:
        findings.edit(current_user, ctx, finding, form.text.data, form.legal_basis.data)
    except InspectionError as exc:
        db.session.rollback()
        if isinstance(exc, (Immutable, Conflict)):
            return _error(exc)
        apply_errors(form, exc.errors)
        ctx = _ctx(public_id)
        return render(
            "inspections/record.html",
            block="findings",
            status=422,
            **_record_context(ctx, finding_edit=(finding.public_id, form)),
        )
    db.session.commit()
    if is_htmx():
        return render("inspections/record.html", block="findings", **_record_context(_ctx(public_id)))
    return redirect(url_for("inspections.record", public_id=public_id, _anchor="findings"), code=303)


def findings_of(ctx: TaskContext, ref: str):
    """The task's finding named in the URL (public id or client id), else 404."""
    finding = services.finding_of(ctx, ref)
    if finding is None:
        abort(404)
    return finding


@bp.route("/tasks/<public_id>/findings/<finding_id>/delete", methods=["POST"])
@inspector_required
@syncable
def finding_delete(public_id: str, finding_id: str):
    ctx = _ctx(public_id)
    finding = services.finding_of(ctx, finding_id)
    if finding is None:
        abort(404)
    try:
        services.delete_finding(current_user, ctx, finding)
    except InspectionError as exc:
        db.session.rollback()
        return _error(exc)
    db.session.commit()
    return after_post(url_for("inspections.record", public_id=public_id, _anchor="findings"))


@bp.route("/tasks/<public_id>/result", methods=["POST"])
@inspector_required
@syncable
def result(public_id: str):
    ctx = _ctx(public_id)
    form = ResultForm()
    try:
        services.set_result(current_user, ctx, form.result.data, form.category.data, form.remarks.data)
    except InspectionError as exc:
        db.session.rollback()
        if isinstance(exc, Immutable):
            return _error(exc)
        apply_errors(form, exc.errors)
        return render(
            "inspections/record.html", block="result", status=422, **_record_context(_ctx(public_id), result_form=form)
        )
    db.session.commit()
    if is_htmx():  # autosave: only the status line changes, the form being edited stays in place
        resp = make_response(render("inspections/_saved_result.html"))
        resp.headers["HX-Retarget"] = "#result-status"
        resp.headers["HX-Reswap"] = "innerHTML"
        return resp
    return redirect(url_for("inspections.record", public_id=public_id, _anchor="result-box"), code=303)


def _saved(insp: Inspection | None, key: str) -> str | None:
    value = getattr(insp, key, None) if insp else None
    return getattr(value, "value", value)


@bp.route("/tasks/<public_id>/submit", methods=["POST"])
@inspector_required
@syncable
def submit(public_id: str):
    ctx = _ctx(public_id)
    form = ResultForm()
    # without JavaScript only the record's UUID is posted: submit what the draft holds
    posted = {k: request.form.get(k, _saved(ctx.inspection, k)) for k in ("result", "category", "remarks")}
    try:
        services.submit(
            current_user, ctx, form.client_uuid.data, posted["result"], posted["category"], posted["remarks"]
        )
    except Conflict as exc:
        db.session.rollback()
        return _error(exc)
    except InspectionError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        return render(
            "inspections/record.html", block="submit", status=422, **_record_context(_ctx(public_id), result_form=form)
        )
    db.session.commit()
    return after_post(url_for("inspections.record", public_id=public_id))


@bp.route("/tasks/<public_id>/supplement", methods=["POST"])
@inspector_required
@syncable
def supplement(public_id: str):
    ctx = _ctx(public_id)
    form = SupplementForm()
    try:
        services.supplement(current_user, ctx, form.client_uuid.data, form.reason.data)
    except InspectionError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        return render(
            "inspections/record.html",
            block="versions",
            status=422,
            **_record_context(_ctx(public_id), supplement_form=form),
        )
    db.session.commit()
    return after_post(url_for("inspections.record", public_id=public_id))


@bp.route("/tasks/<public_id>/findings/<finding_id>/photos", methods=["POST"])
@inspector_required
@syncable
def photo_upload(public_id: str, finding_id: str):
    ctx = _ctx(public_id)
    finding = services.finding_of(ctx, finding_id)
    if finding is None:
        abort(404)
    upload = request.files.get("photo")
    exif = request.files.get("exif")
    data = upload.read() if upload else b""
    try:
        photo = photo_services.add_photo(
            current_user,
            ctx,
            finding,
            data,
            _client_id(),
            exif=exif.read(photo_services.MAX_EXIF_BYTES + 1) if exif else None,
        )
    except InspectionError as exc:
        db.session.rollback()
        return _error(exc)
    db.session.commit()
    resp = make_response(render("inspections/_photo.html", status=201, photo=photo))
    # the phone deletes its copy only when this is the SHA-256 of the bytes it sent
    resp.headers["X-Content-SHA256"] = hashlib.sha256(data).hexdigest()
    return resp


@bp.route("/photos/<token>")
@login_required
def photo(token: str):
    return _send_photo(token, thumb=False)


@bp.route("/photos/<token>/thumb")
@login_required
def photo_thumb(token: str):
    return _send_photo(token, thumb=True)


def _send_photo(token: str, thumb: bool):
    p = photo_services.photo_for(current_user, token)
    if p is None:
        abort(404)
    data = photo_services.photo_bytes(p, thumb=thumb)
    if data is None:
        abort(404)
    resp = make_response(data)
    resp.headers["Content-Type"] = "image/jpeg" if thumb else p.content_type
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.route("/tasks/<public_id>/signatures", methods=["POST"])
@inspector_required
@syncable
def sign(public_id: str):
    ctx = _ctx(public_id)
    f = request.form
    role, _sep, inspector_id = (f.get("signer") or "").partition(":")  # "unit" | "inspector:<id>"
    try:
        signing.sign(
            current_user,
            ctx,
            role,
            inspector_id=inspector_id,
            signer_name=f.get("signer_name"),
            strokes=f.get("strokes"),
            width=f.get("width"),
            height=f.get("height"),
            refused=f.get("refused") == "1",
            reason=f.get("reason"),
            proxy_reason=f.get("proxy_reason"),
            lat=f.get("lat"),
            lon=f.get("lon"),
            client_uuid=_client_id(),
            seen=f.get("seen"),
            points=services.points(ctx),
        )
    except SeenMismatch as exc:
        db.session.rollback()
        return render("inspections/_seen_conflict.html", status=exc.status, message=exc.message, exc=exc)
    except InspectionError as exc:
        db.session.rollback()
        if isinstance(exc, (Immutable, Conflict)):
            return _error(exc)
        return render(
            "inspections/record.html",
            block="signatures",
            status=422,
            **_record_context(_ctx(public_id), sign_errors=exc.errors, sign_form=f),
        )
    db.session.commit()
    return render("inspections/record.html", block="signatures", **_record_context(_ctx(public_id)))


@bp.route("/signatures/<token>.png")
@login_required
def signature_png(token: str):
    sig = signing.signature_for(current_user, token)
    png = signing.png_of(sig) if sig else None
    if png is None:
        abort(404)
    db.session.commit()  # a signature saved before PNGs were stored: its PNG was drawn and stored just now
    resp = make_response(png)
    resp.headers["Content-Type"] = "image/png"
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.route("/tasks/<public_id>/check-form.pdf")
@inspector_required
def check_form_pdf(public_id: str):
    ctx = _ctx(public_id)
    data = documents.check_form_for(ctx)
    if data is None:
        abort(404)
    db.session.commit()  # signature PNGs drawn for the first time are stored (signing.png_of)
    return pdf_response(documents.check_form_pdf(data), "check-form.pdf")
