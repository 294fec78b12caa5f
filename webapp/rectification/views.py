"""Rectification orders: issuing, the 复查 outcome, numbering, the public verification page behind every QR code,
the printable notice and its PDF.

``/v/<token>`` is open to anyone (``@public``), sets no cookie (its layout never touches the session or the
CSRF token), is not indexed and sends no referrer (the token is the proof). Unknown tokens answer 404 with
the same page whatever the token looks like. The printable page and the PDF are for the supervisors of the
issuing organisation and the inspectors assigned to the task; everyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import calendar
from webapp.auth import access
from webapp.auth.models import Organisation
from webapp.auth.permissions import inspector_required, login_required, public, supervisor_required
from webapp.documents import qr
from webapp.extensions import db
from webapp.inspections import findings
from webapp.inspections.models import Inspection
from webapp.inspections.record import calls_for_order
from webapp.rectification import documents, queries, services
from webapp.rectification.forms import IssueForm, NumberingForm, OutcomeForm
from webapp.rectification.labels import FOLLOW_UP, ORDER_KIND, ORDER_STATE
from webapp.rectification.models import OrderStatus, RectificationOrder
from webapp.rectification.numbering import example_numbers, numbering_for, set_numbering
from webapp.registry.models import Unit
from webapp.tasks.models import Task
from webapp.web import ConflictError, ServiceError, after_post, apply_errors, pdf_response, render

bp = Blueprint("rectification", __name__)


@bp.context_processor
def _labels() -> dict:
    return {"ORDER_KIND": ORDER_KIND, "FOLLOW_UP": FOLLOW_UP, "ORDER_STATE": ORDER_STATE}


def _verify_url(order: RectificationOrder) -> str:
    return url_for("rectification.verify", token=order.token, _external=True)


@bp.route("/v/<token>")
@public
def verify(token: str):
    order = services.get_by_token(token)
    if order is None:
        resp = Response(render_template("rectification/verify_missing.html"), status=404)
    else:
        resp = Response(render_template("rectification/verify.html", n=services.public_view(order)))
    resp.headers["Cache-Control"] = "no-cache"  # the status changes; always revalidate
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _order_or_404(order_id: int) -> RectificationOrder:
    order = db.session.get(RectificationOrder, order_id)
    if order is None or not access.can_view_order(current_user, order):
        abort(404)
    return order


@bp.route("/notices/<int:order_id>")
@login_required
def notice(order_id: int):
    order = _order_or_404(order_id)
    url = _verify_url(order)
    return render(
        "rectification/notice.html",
        order=order,
        state=order.display_status(calendar.today()),
        inspectors=services.inspectors_of(order),
        verify_url=url,
        qr=qr.svg(url),
        can_record=order.status == OrderStatus.PENDING and access.can_record_outcome(current_user, order),
    )


@bp.route("/notices/<int:order_id>/notice.pdf")
@login_required
def notice_pdf(order_id: int):
    order = _order_or_404(order_id)
    body = documents.notice_pdf(order, _verify_url(order))
    if body is None:
        abort(404)
    return pdf_response(body, f"notice-{order.id}.pdf")


STATES = ("pending", "overdue", "rectified")


@bp.route("/notices/")
@supervisor_required
def orders():
    """整改文书 of the supervisor's organisations, filtered by status."""
    state = request.args.get("state", "")
    state = state if state in STATES else ""
    today = calendar.today()
    return render(
        "rectification/orders.html",
        block="order_list",
        orders=services.list_orders(current_user, state, today),
        state=state,
        today=today,
    )


# ------------------------------------------------------------------------------------------- issuing


@bp.route("/notices/new/<int:inspection_id>", methods=["GET", "POST"])
@inspector_required
def issue(inspection_id: int):
    """An assigned inspector issues a 责令立即改正 / 责令限期改正 for the inspection's problems."""
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or not access.can_issue_order(current_user, inspection):
        abort(404)
    if not calls_for_order(inspection):
        raise ConflictError(_("只有已提交且检查结果为责令改正的检查记录才能制发整改文书。"))
    if request.method == "POST":
        form = IssueForm()
    else:
        # everything from the findings: their text and basis, the kind of the record's result (else what the
        # common problems suggest) and the shortest deadline those problems suggest
        found = services.problems_from_findings(inspection)
        suggestion = findings.order_suggestion(inspection)
        kind = getattr(inspection.result, "value", None)
        kind = kind if kind in ORDER_KIND else (suggestion.kind or "deadline")
        form = IssueForm(
            data={
                "problems": [*found, {"text": "", "basis": ""}],
                "kind": kind,
                "deadline_days": str(suggestion.deadline_days or 10),
                "client_key": str(uuid.uuid4()),
            }
        )
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        days_raw = (form.deadline_days.data or "").strip()
        if form.kind.data == "deadline" and not days_raw.isdigit():
            apply_errors(form, {"deadline_days": _("请填写整改期限（工作日数）")})
        else:
            try:
                order = services.issue_order(
                    current_user,
                    inspection,
                    form.kind.data,
                    [{"text": p.text.data, "basis": p.basis.data} for p in form.problems],
                    int(days_raw or 0),
                    client_key=form.client_key.data or "",
                )
            except ServiceError as e:
                db.session.rollback()
                apply_errors(form, e.errors)
                status = e.status  # 409: issued already (the order is named and listed above the form)
            else:
                db.session.commit()
                flash(_("已制发文书：%(number)s", number=order.number), "success")
                return after_post(url_for("rectification.notice", order_id=order.id))
    if not services.is_client_key(form.client_key.data):
        form.client_key.data = str(uuid.uuid4())  # a page opened before the key existed: the next post has one
    return render(
        "rectification/issue.html",
        block="issue_form",
        status=status,
        form=form,
        inspection=inspection,
        task=inspection.task,
        existing=services.orders_of_inspection(inspection.id),
    )


# ----------------------------------------------------------------------------------------- 复查 outcome


@bp.route("/notices/<int:order_id>/outcome", methods=["GET", "POST"])
@inspector_required
def outcome(order_id: int):
    order = db.session.get(RectificationOrder, order_id)
    if order is None or not access.can_record_outcome(current_user, order):
        abort(404)
    if order.status != OrderStatus.PENDING:
        return redirect(url_for("rectification.notice", order_id=order.id))
    form = OutcomeForm()
    answers = [request.form.get(f"result-{i}", "") for i in range(len(order.problems))]
    if form.validate_on_submit():
        decision_date = None
        raw_date = (form.decision_date.data or "").strip()
        try:
            decision_date = dt.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            apply_errors(form, {"decision_date": _("日期格式应为 2026-12-01")})
        if any(a not in ("yes", "no") for a in answers):
            form.form_errors.append(_("请逐项选择每个问题是否已改正"))
        if not form.errors and not form.form_errors:
            try:
                services.record_outcome(
                    current_user,
                    order,
                    [a == "yes" for a in answers],
                    form.note.data or "",
                    follow_up=form.follow_up.data or None,
                    decision_number=form.decision_number.data or "",
                    decision_date=decision_date,
                    referred_to=form.referred_to.data or "",
                )
            except ServiceError as e:
                db.session.rollback()
                apply_errors(form, e.errors)
            else:
                db.session.commit()
                flash(_("已记录复查结果"), "success")
                return after_post(url_for("rectification.notice", order_id=order.id))
    status = 422 if request.method == "POST" else 200
    return render(
        "rectification/outcome.html", block="outcome_form", status=status, form=form, order=order, answers=answers
    )


# ------------------------------------------------------------------------------------------ numbering


@bp.route("/notices/numbering", methods=["GET", "POST"])
@supervisor_required
def numbering():
    """The supervisor's organisation's 文书代字 and number patterns."""
    org = db.session.get(Organisation, current_user.org_id)
    patterns, abbr = numbering_for(org)
    form = NumberingForm(
        data={"abbr": abbr, "pattern_deadline": patterns["deadline"], "pattern_immediate": patterns["immediate"]}
    )
    if form.validate_on_submit():
        try:
            set_numbering(
                current_user,
                org,
                form.abbr.data or "",
                form.pattern_deadline.data or "",
                form.pattern_immediate.data or "",
            )
        except ServiceError as e:
            db.session.rollback()
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已保存文书编号设置"), "success")
            return after_post(url_for("rectification.numbering"))
    status = 422 if request.method == "POST" else 200
    example = None
    if not form.errors and not form.form_errors:
        example = example_numbers(org)
    return render(
        "rectification/numbering.html", block="numbering_form", status=status, form=form, org=org, example=example
    )


# 一户一档: the unit's page (registry) and the task page (inspections) sit below this package, so they read the
# history (queries.unit_history) through this template global rather than importing it.
@bp.app_template_global("unit_history")
def unit_history_global(unit: Unit, exclude_task: Task | None = None) -> queries.UnitHistory:
    return queries.unit_history(current_user, unit, exclude_task)
