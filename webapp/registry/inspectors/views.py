"""执法检查人员名录库: list, detail, create/edit, freeze, unavailability periods and conflicts (回避).

Views parse input, call :mod:`~webapp.registry.inspectors.services` (writes; the view commits) or
:mod:`~webapp.registry.inspectors.queries` (reads) and render. This month's pool state on the detail page is the
draw's rule, shown through the template global ``inspector_month_pool`` (see ``webapp.draw.pool``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from webapp.auth.access import can_manage_org
from webapp.auth.permissions import supervisor_required
from webapp.extensions import db
from webapp.registry.inspectors import queries, services
from webapp.registry.inspectors.forms import ConflictForm, InspectorForm, ReasonForm, UnavailableForm, initial_data
from webapp.registry.inspectors.queries import POOL_FILTERS, InspectorFilters
from webapp.registry.labels import INSPECTOR_FIELD
from webapp.registry.models import Inspector, InspectorStatus
from webapp.registry.queries import visible_orgs
from webapp.registry.services import RecordError
from webapp.registry.views import bp
from webapp.web import after_arg, after_post, apply_errors, choices, is_htmx, render

# ---------------------------------------------------------------------------------------------- helpers


def _back_to_detail(insp: Inspector, anchor: str | None = None):
    """After a successful action on the detail page: show it again, at the section acted on.

    htmx requests get ``HX-Refresh``: an ``HX-Redirect`` to the same page with only a ``#fragment`` added
    would merely scroll, leaving the old page (and the flash message) on screen.
    """
    if is_htmx():
        resp = make_response("", 200)
        resp.headers["HX-Refresh"] = "true"
        return resp
    return redirect(_detail_url(insp, anchor), code=303)


def _inspector_or_404(public_id: str) -> Inspector:
    insp = queries.get_inspector(current_user, public_id)
    if insp is None:
        abort(404)
    return insp


def _detail_url(insp: Inspector, anchor: str | None = None) -> str:
    return url_for("registry.inspector_detail", public_id=insp.public_id, _anchor=anchor)


def _form_choices(form: InspectorForm, insp: Inspector | None) -> None:
    orgs = visible_orgs(current_user)
    form.org_id.choices = choices((str(o.id), o.name) for o in orgs)
    posts = queries.posts_for(orgs)
    if insp is not None and insp.post and insp.post not in posts:
        posts.append(insp.post)  # keep an old post visible; saving asks for a valid one
    form.post.choices = choices([("", _("（请选择）")), *((p, p) for p in posts)])


# ------------------------------------------------------------------------------------------------ list


@bp.route("/inspectors")
@supervisor_required
def inspectors():
    filters = InspectorFilters.from_args(request.args)
    page = queries.list_inspectors(
        current_user, filters, after=after_arg(), page_size=current_app.config.get("PAGE_SIZE", 50)
    )
    context: dict[str, Any] = {"filters": filters, "page": page, "after": after_arg(), "pool_filters": POOL_FILTERS}
    if not is_htmx():  # the filter form is outside the results block
        orgs = visible_orgs(current_user)
        context["orgs"] = orgs if len(orgs) > 1 else []
        context["posts"] = queries.posts_for(orgs)
    return render("registry/inspectors.html", block="results", **context)


# ------------------------------------------------------------------------------------- new / edit


@bp.route("/inspectors/new", methods=["GET", "POST"])
@supervisor_required
def inspector_new():
    form = InspectorForm(data=initial_data(None, current_user.org_id))
    _form_choices(form, None)
    if form.validate_on_submit():
        try:
            insp = services.create_inspector(current_user, form.org_id.data, form.raw_values())
        except RecordError as exc:
            apply_errors(form, _with_duplicate_link(exc))
        else:
            db.session.commit()
            flash(_("已新增执法检查人员：%(name)s", name=insp.name), "success")
            return after_post(_detail_url(insp))
    status = 422 if request.method == "POST" else 200
    return render("registry/inspector_form.html", block="inspector_form", status=status, form=form, insp=None)


@bp.route("/inspectors/<public_id>/edit", methods=["GET", "POST"])
@supervisor_required
def inspector_edit(public_id: str):
    insp = _inspector_or_404(public_id)
    form = InspectorForm(data=initial_data(insp, current_user.org_id))
    _form_choices(form, insp)
    if form.validate_on_submit():
        try:
            changes = services.update_inspector(
                current_user, insp, form.org_id.data, form.raw_values(), form.reason.data
            )
        except RecordError as exc:
            apply_errors(form, _with_duplicate_link(exc))
        else:
            db.session.commit()
            flash(_("已保存修改") if changes else _("没有需要保存的修改"), "success" if changes else "warning")
            return after_post(_detail_url(insp))
    status = 422 if request.method == "POST" else 200
    return render("registry/inspector_form.html", block="inspector_form", status=status, form=form, insp=insp)


def _with_duplicate_link(exc: RecordError) -> dict:
    """Make the duplicate-certificate message link to the person who holds it, when the user may open it."""
    errors: dict = dict(exc.errors)
    holder = exc.duplicate
    if holder is not None and "cert_no" in errors and can_manage_org(current_user, holder.org_id):
        link = Markup('<a href="{}">{}</a>').format(_detail_url(holder), holder.name)
        errors["cert_no"] = escape(_("该执法证件号已登记为：%(name)s（%(org)s）")) % {
            "name": link,
            "org": holder.org.name,
        }
    return errors


# ---------------------------------------------------------------------------------------------- detail


@bp.route("/inspectors/<public_id>")
@supervisor_required
def inspector_detail(public_id: str):
    insp = _inspector_or_404(public_id)
    return _detail(insp)


def _detail(
    insp: Inspector,
    *,
    block: str | None = None,
    status: int = 200,
    status_form: ReasonForm | None = None,
    period_form: UnavailableForm | None = None,
    conflict_form: ConflictForm | None = None,
    row_errors: dict[str, str] | None = None,
    row_reasons: dict[str, str] | None = None,
    unit_options: list | None = None,
):
    views = queries.history(current_user, insp)
    conflict_form = conflict_form or ConflictForm(formdata=None)
    return render(
        "registry/inspector_detail.html",
        block=block,
        status=status,
        insp=insp,
        labels=INSPECTOR_FIELD,
        cert_state=queries.cert_state(insp),
        username=queries.usernames(insp.user_id).get(insp.user_id) if insp.user_id else None,
        periods=queries.periods_of(insp),
        conflicts=queries.conflicts_of(insp),
        cancel_reasons=queries.cancel_reasons(views),
        withdraw_reasons=queries.withdraw_reasons(views),
        history=views,
        status_form=status_form or ReasonForm(formdata=None),
        period_form=period_form or UnavailableForm(formdata=None),
        conflict_form=conflict_form,
        row_errors=row_errors or {},
        row_reasons=row_reasons or {},
        unit_options=unit_options if unit_options is not None else [],
        unit_q=conflict_form.q.data or "",
        frozen=insp.status == InspectorStatus.FROZEN,
    )


@bp.route("/inspectors/<public_id>/freeze", methods=["POST"])
@supervisor_required
def inspector_freeze(public_id: str):
    insp = _inspector_or_404(public_id)
    form = ReasonForm()
    form.validate()  # CSRF (also enforced app-wide); the rules are in the service
    frozen = insp.status == InspectorStatus.FROZEN
    try:
        (services.unfreeze if frozen else services.freeze)(current_user, insp, form.reason.data)
    except RecordError as exc:
        apply_errors(form, exc.errors)
        return _detail(insp, block="status_section", status=422, status_form=form)
    db.session.commit()
    done = _("已解冻：%(name)s", name=insp.name) if frozen else _("已冻结：%(name)s，不再参与抽取", name=insp.name)
    flash(done, "success")
    return _back_to_detail(insp)


@bp.route("/inspectors/<public_id>/unavailable", methods=["POST"])
@supervisor_required
def inspector_unavailable_add(public_id: str):
    insp = _inspector_or_404(public_id)
    form = UnavailableForm()
    form.validate()
    try:
        services.add_unavailability(current_user, insp, form.start_date.data, form.end_date.data, form.reason.data)
    except RecordError as exc:
        apply_errors(form, exc.errors)
        return _detail(insp, block="unavailability_section", status=422, period_form=form)
    db.session.commit()
    flash(_("已登记不可抽取期间"), "success")
    return _back_to_detail(insp, "unavailability")


@bp.route("/inspectors/<public_id>/unavailable/<int:period_id>/cancel", methods=["POST"])
@supervisor_required
def inspector_unavailable_cancel(public_id: str, period_id: int):
    insp = _inspector_or_404(public_id)
    period = queries.get_period(insp, period_id)
    if period is None:
        abort(404)
    return _end_with_reason(
        insp,
        f"period-{period.id}",
        "unavailability",
        lambda reason: services.cancel_unavailability(current_user, insp, period, reason),
        _("已取消该不可抽取期间"),
    )


@bp.route("/inspectors/<public_id>/units")
@supervisor_required
def inspector_unit_options(public_id: str):
    """Active search for the conflict form: a short list of visible units whose name matches ``q``."""
    insp = _inspector_or_404(public_id)
    form = ConflictForm(formdata=request.args, meta={"csrf": False})
    options = queries.search_units(current_user, form.q.data or "")
    return _detail(insp, block="unit_options", conflict_form=form, unit_options=options)


@bp.route("/inspectors/<public_id>/conflicts", methods=["POST"])
@supervisor_required
def inspector_conflict_add(public_id: str):
    insp = _inspector_or_404(public_id)
    form = ConflictForm()
    form.validate()
    try:
        services.declare_conflict(current_user, insp, form.unit.data, form.reason.data)
    except RecordError as exc:
        apply_errors(form, exc.errors)
        options = queries.search_units(current_user, form.q.data or "")
        return _detail(insp, block="conflicts_section", status=422, conflict_form=form, unit_options=options)
    db.session.commit()
    flash(_("已登记利害关系，该人员不会被抽取检查此单位"), "success")
    return _back_to_detail(insp, "conflicts")


@bp.route("/inspectors/<public_id>/conflicts/<int:conflict_id>/withdraw", methods=["POST"])
@supervisor_required
def inspector_conflict_withdraw(public_id: str, conflict_id: int):
    insp = _inspector_or_404(public_id)
    conflict = queries.get_conflict(insp, conflict_id)
    if conflict is None:
        abort(404)
    return _end_with_reason(
        insp,
        f"conflict-{conflict.id}",
        "conflicts",
        lambda reason: services.withdraw_conflict(current_user, insp, conflict, reason),
        _("已撤销利害关系"),
    )


def _end_with_reason(insp: Inspector, row_key: str, section: str, end: Callable[[str | None], object], done: str):
    """Cancel a leave period or withdraw a 回避 with the reason typed beside its row (kept there when refused)."""
    form = ReasonForm()
    form.validate()
    try:
        end(form.reason.data)
    except RecordError as exc:
        return _detail(
            insp,
            block=f"{section}_section",
            status=422,
            row_errors={row_key: exc.errors["reason"]},
            row_reasons={row_key: form.reason.data or ""},
        )
    db.session.commit()
    flash(done, "success")
    return _back_to_detail(insp, section)
