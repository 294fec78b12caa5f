"""扫码亮证: the code's public page ``/c/<token>`` with its rating and report forms, the code on the inspector's
record page, and the supervisors' list of ratings and reports.

``/c/<token>`` is open to everyone (``@public``) and sets no cookie (its layout never touches the session; the
forms carry a signed token instead of Flask-WTF's, see ``forms.py``), is not indexed, sends no referrer and is
never cached (it changes with the inspection). Unknown tokens answer 404 with the same page whatever they look
like. Its POSTs are rate-limited per address.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import calendar
from webapp.auth import access
from webapp.auth.permissions import public, supervisor_required
from webapp.db import utcnow
from webapp.documents import qr
from webapp.extensions import csrf, db, limiter
from webapp.inspections.models import Inspection
from webapp.trace import forms, queries, services
from webapp.trace.labels import HOTLINE, trace_globals
from webapp.trace.models import InspectionTrace
from webapp.web import ConflictError, ServiceError, apply_errors, render

bp = Blueprint("trace", __name__)

SCAN_LIMIT = "60 per minute"
POST_LIMIT = "5 per minute; 30 per hour"


@bp.context_processor
def _labels() -> dict:
    return trace_globals()


@bp.app_template_global("trace_code")
def trace_code(insp: Inspection | None) -> dict | None:
    """The code block of the inspector's record page (made at check-in: ``services.on_inspection_started``).

    None before check-in (also while a check-in made offline waits on the phone), for the unsaved draft of the
    day's pack, and for anyone not working on the task. Reads only: a GET never writes.
    """
    if insp is None or insp.id is None or insp.checkin_at is None:
        return None
    if not access.can_work_on_task(current_user, insp.task):
        return None
    trace = services.trace_of(insp)
    if trace is None:
        return None
    url = url_for("trace.scan", token=trace.token, _external=True)
    return {"url": url, "svg": qr.svg(url), "scans": trace.scan_count, "last_scan_at": trace.last_scan_at}


def _public(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"  # the state changes, and the forms carry a fresh token
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Referrer-Policy"] = "no-referrer"  # the token is the proof
    return resp


def _trace_or_404(token: str) -> InspectionTrace:
    trace = queries.by_token(token)
    if trace is None:
        abort(404)
    return trace


@bp.errorhandler(404)
def _missing(e):
    return _public(Response(render_template("trace/missing.html"), status=404))


def _staff(trace: InspectionTrace) -> bool:
    """The inspectors and supervisors of the record looking at its code (not counted as scans)."""
    return access.can_view_record(current_user, trace.inspection)


def _page(
    trace: InspectionTrace,
    status: int = 200,
    rating_form: forms.RatingForm | None = None,
    report_form: forms.ReportForm | None = None,
    message: str | None = None,
) -> Response:
    token = forms.form_token(trace.token)
    rating_form = rating_form or forms.RatingForm(formdata=None)
    report_form = report_form or forms.ReportForm(formdata=None)
    rating_form.form_token.data = report_form.form_token.data = token
    html = render_template(
        "trace/scan.html",
        t=queries.public_view(trace, calendar.today()),
        rating_form=rating_form,
        report_form=report_form,
        message=message,
        sent=request.args.get("sent", ""),
        hotline=HOTLINE,
    )
    return _public(Response(html, status=status))


@bp.get("/c/<token>")
@public
@limiter.limit(SCAN_LIMIT)
def scan(token: str):
    trace = _trace_or_404(token)
    if not _staff(trace):
        visitor = services.visitor_hash(
            current_app.secret_key or "", request.remote_addr, request.user_agent.string, calendar.today()
        )
        if services.record_scan(trace, visitor, utcnow()):
            db.session.commit()
    return _page(trace)


def _post(token: str, form_class, change) -> Response:
    forms.check_form_token(token)
    trace = _trace_or_404(token)
    form = form_class()
    try:
        change(trace, form)
    except ConflictError as exc:
        db.session.rollback()
        return _page(trace, status=exc.status, message=exc.message)
    except ServiceError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        key = "rating_form" if form_class is forms.RatingForm else "report_form"
        return _page(trace, status=exc.status, **{key: form})
    db.session.commit()
    sent = "rating" if form_class is forms.RatingForm else "report"
    return redirect(url_for("trace.scan", token=token, sent=sent, _anchor="feedback"), code=303)


@bp.post("/c/<token>/rating")
@public
@limiter.limit(POST_LIMIT)
@csrf.exempt
def rate(token: str):
    """The unit confirms the visit and rates it (after submission, once per inspection)."""
    return _post(
        token,
        forms.RatingForm,
        lambda trace, f: services.rate(trace, f.visit.data, f.score.data, f.comment.data),
    )


@bp.post("/c/<token>/report")
@public
@limiter.limit(POST_LIMIT)
@csrf.exempt
def report(token: str):
    """A report of misconduct to the supervisors (any time)."""
    return _post(token, forms.ReportForm, lambda trace, f: services.report(trace, f.text.data, f.contact.data))


@bp.get("/trace/feedback")
@supervisor_required
def feedback():
    """满意度评价与举报: the ratings and reports of the inspections the supervisor oversees."""
    kind = request.args.get("kind", "rating")
    if kind not in ("rating", "report"):
        kind = "rating"
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    return render("trace/feedback.html", listing=queries.feedback(current_user, kind, page))
