"""执法检查人员名录库: list, detail, create/edit, freeze, unavailability periods and conflicts (回避).

Views parse input, call a service of :mod:`webapp.registry.inspectors.services` and render. The forms below only
render fields and carry CSRF: every rule is in ``clean_inspector`` and the services.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from webapp.auth.permissions import can_manage_org, supervisor_required
from webapp.registry.inspectors import services as services
from webapp.registry.inspectors.services import FIELD_LABELS, POOL_FILTERS, POOL_REASONS, InspectorFilters
from webapp.registry.models import Inspector, InspectorStatus
from webapp.registry.units.forms import choices
from webapp.registry.views import bp
from webapp.web import after_arg, after_post, is_htmx, render

TEXT_FIELDS = ("name", "post", "rank", "specialties", "cert_no", "cert_valid_until", "draw_weight", "phone", "username")


# ---------------------------------------------------------------------------------------------- forms


class _FieldErrors:
    def add_errors(self, errors: dict[str, Any]) -> None:
        """Show service errors next to their fields (form-level if there is no such field)."""
        for name, message in errors.items():
            if name not in self._fields:
                self.form_errors.append(message)
                continue
            self[name].errors = [*self[name].errors, message]


class InspectorForm(_FieldErrors, FlaskForm):
    org_id = SelectField(FIELD_LABELS["org_id"], choices=[], validate_choice=False)
    name = StringField(FIELD_LABELS["name"])
    post = SelectField(FIELD_LABELS["post"], choices=[], validate_choice=False)
    rank = StringField(FIELD_LABELS["rank"])
    specialties = StringField(FIELD_LABELS["specialties"])
    cert_no = StringField(FIELD_LABELS["cert_no"])
    cert_valid_until = StringField(FIELD_LABELS["cert_valid_until"])
    can_lead = BooleanField(_l("可担任主办（主办检查人员）"))
    draw_weight = StringField(FIELD_LABELS["draw_weight"])
    phone = StringField(FIELD_LABELS["phone"])
    username = StringField(FIELD_LABELS["username"])
    reason = TextAreaField(_l("修改原因"))

    def raw_values(self) -> dict[str, str]:
        """The typed text, as ``clean_inspector`` expects it."""
        raw = {name: self[name].data or "" for name in TEXT_FIELDS}
        raw["can_lead"] = "是" if self.can_lead.data else "否"
        raw["user_id"] = raw.pop("username")  # the 登录账号 column holds the username
        return raw


def initial_data(insp: Inspector | None, default_org_id: int) -> dict[str, Any]:
    if insp is None:
        return {"org_id": str(default_org_id)}
    data: dict[str, Any] = {"org_id": str(insp.org_id), "can_lead": bool(insp.can_lead)}
    for name in ("name", "post", "rank", "specialties", "cert_no", "phone"):
        data[name] = getattr(insp, name) or ""
    data["cert_valid_until"] = insp.cert_valid_until.isoformat() if insp.cert_valid_until else ""
    data["draw_weight"] = str(insp.draw_weight)
    data["username"] = services._usernames(insp.user_id).get(insp.user_id, "") if insp.user_id else ""
    return data


# The detail page shows several of these forms at once: explicit ids keep labels and ids unique.


class ReasonForm(_FieldErrors, FlaskForm):
    reason = TextAreaField(_l("原因"), id="status-reason")


class UnavailableForm(_FieldErrors, FlaskForm):
    start_date = StringField(FIELD_LABELS["start_date"], id="period-start")
    end_date = StringField(FIELD_LABELS["end_date"], id="period-end")
    reason = StringField(_l("原因"), id="period-reason")


class ConflictForm(_FieldErrors, FlaskForm):
    q = StringField(_l("单位名称"), id="conflict-q")
    unit = HiddenField(id="conflict-unit")
    reason = StringField(_l("利害关系"), id="conflict-reason")


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
    insp = services.get_inspector(current_user, public_id)
    if insp is None:
        abort(404)
    return insp


def _detail_url(insp: Inspector, anchor: str | None = None) -> str:
    return url_for("registry.inspector_detail", public_id=insp.public_id, _anchor=anchor)


def _form_choices(form: InspectorForm, insp: Inspector | None) -> None:
    orgs = services.visible_orgs(current_user)
    form.org_id.choices = choices((str(o.id), o.name) for o in orgs)
    posts = services.posts_for(orgs)
    if insp is not None and insp.post and insp.post not in posts:
        posts.append(insp.post)  # keep an old post visible; saving asks for a valid one
    form.post.choices = choices([("", _("（请选择）")), *((p, p) for p in posts)])


# ------------------------------------------------------------------------------------------------ list


@bp.route("/inspectors")
@supervisor_required
def inspectors():
    filters = InspectorFilters.from_args(request.args)
    page = services.list_inspectors(
        current_user, filters, after=after_arg(), page_size=current_app.config.get("PAGE_SIZE", 50)
    )
    context: dict[str, Any] = {"filters": filters, "page": page, "after": after_arg(), "pool_filters": POOL_FILTERS}
    if not is_htmx():  # the filter form is outside the results block
        orgs = services.visible_orgs(current_user)
        context["orgs"] = orgs if len(orgs) > 1 else []
        context["posts"] = services.posts_for(orgs)
    return render("registry/inspectors.html", block="results", **context)


# ------------------------------------------------------------------------------------- new / edit


@bp.route("/inspectors/new", methods=["GET", "POST"])
@supervisor_required
def inspector_new():
    form = InspectorForm(data=initial_data(None, current_user.org_id))
    _form_choices(form, None)
    if form.validate_on_submit():
        result = services.create_inspector(current_user, form.org_id.data, form.raw_values())
        if result.ok:
            flash(_("已新增执法检查人员：%(name)s", name=result.inspector.name), "success")
            return after_post(_detail_url(result.inspector))
        form.add_errors(_with_duplicate_link(result))
    status = 422 if request.method == "POST" else 200
    return render("registry/inspector_form.html", block="inspector_form", status=status, form=form, insp=None)


@bp.route("/inspectors/<public_id>/edit", methods=["GET", "POST"])
@supervisor_required
def inspector_edit(public_id: str):
    insp = _inspector_or_404(public_id)
    form = InspectorForm(data=initial_data(insp, current_user.org_id))
    _form_choices(form, insp)
    if form.validate_on_submit():
        result = services.update_inspector(current_user, insp, form.org_id.data, form.raw_values(), form.reason.data)
        if result.ok:
            flash(
                _("已保存修改") if result.changes else _("没有需要保存的修改"),
                "success" if result.changes else "warning",
            )
            return after_post(_detail_url(insp))
        form.add_errors(_with_duplicate_link(result))
    status = 422 if request.method == "POST" else 200
    return render("registry/inspector_form.html", block="inspector_form", status=status, form=form, insp=insp)


def _with_duplicate_link(result: services.SaveResult) -> dict:
    """Make the duplicate-certificate message link to the person who holds it, when the user may open it."""
    errors = dict(result.errors)
    holder = result.duplicate
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
    views = services.history(current_user, insp)
    conflict_form = conflict_form or ConflictForm(formdata=None)
    return render(
        "registry/inspector_detail.html",
        block=block,
        status=status,
        insp=insp,
        labels=FIELD_LABELS,
        pool=services.month_pool_state(insp),
        pool_reasons=POOL_REASONS,
        cert_state=services.cert_state(insp),
        username=services._usernames(insp.user_id).get(insp.user_id) if insp.user_id else None,
        periods=services.periods_of(insp),
        conflicts=services.conflicts_of(insp),
        cancel_reasons=services.cancel_reasons(views),
        withdraw_reasons=services.withdraw_reasons(views),
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
    errors = (services.unfreeze if frozen else services.freeze)(current_user, insp, form.reason.data)
    if not errors:
        flash(_("已解冻：%(name)s") if frozen else _("已冻结：%(name)s，不再参与抽取"), "success")
        return _back_to_detail(insp)
    form.add_errors(errors)
    return _detail(insp, block="status_section", status=422, status_form=form)


@bp.route("/inspectors/<public_id>/unavailable", methods=["POST"])
@supervisor_required
def inspector_unavailable_add(public_id: str):
    insp = _inspector_or_404(public_id)
    form = UnavailableForm()
    form.validate()
    _period, errors = services.add_unavailability(
        current_user, insp, form.start_date.data, form.end_date.data, form.reason.data
    )
    if not errors:
        flash(_("已登记不可抽取期间"), "success")
        return _back_to_detail(insp, "unavailability")
    form.add_errors(errors)
    return _detail(insp, block="unavailability_section", status=422, period_form=form)


@bp.route("/inspectors/<public_id>/unavailable/<int:period_id>/cancel", methods=["POST"])
@supervisor_required
def inspector_unavailable_cancel(public_id: str, period_id: int):
    insp = _inspector_or_404(public_id)
    period = services.get_period(insp, period_id)
    if period is None:
        abort(404)
    form = ReasonForm()
    form.validate()
    errors = services.cancel_unavailability(current_user, insp, period, form.reason.data)
    if not errors:
        flash(_("已取消该不可抽取期间"), "success")
        return _back_to_detail(insp, "unavailability")
    key = f"period-{period.id}"
    return _detail(
        insp,
        block="unavailability_section",
        status=422,
        row_errors={key: errors["reason"]},
        row_reasons={key: form.reason.data or ""},
    )


@bp.route("/inspectors/<public_id>/units")
@supervisor_required
def inspector_unit_options(public_id: str):
    """Active search for the conflict form: a short list of visible units whose name matches ``q``."""
    insp = _inspector_or_404(public_id)
    form = ConflictForm(formdata=request.args, meta={"csrf": False})
    options = services.search_units(current_user, form.q.data or "")
    return _detail(insp, block="unit_options", conflict_form=form, unit_options=options)


@bp.route("/inspectors/<public_id>/conflicts", methods=["POST"])
@supervisor_required
def inspector_conflict_add(public_id: str):
    insp = _inspector_or_404(public_id)
    form = ConflictForm()
    form.validate()
    _conflict, errors = services.declare_conflict(current_user, insp, form.unit.data, form.reason.data)
    if not errors:
        flash(_("已登记利害关系，该人员不会被抽取检查此单位"), "success")
        return _back_to_detail(insp, "conflicts")
    form.add_errors(errors)
    options = services.search_units(current_user, form.q.data or "")
    return _detail(insp, block="conflicts_section", status=422, conflict_form=form, unit_options=options)


@bp.route("/inspectors/<public_id>/conflicts/<int:conflict_id>/withdraw", methods=["POST"])
@supervisor_required
def inspector_conflict_withdraw(public_id: str, conflict_id: int):
    insp = _inspector_or_404(public_id)
    conflict = services.get_conflict(insp, conflict_id)
    if conflict is None:
        abort(404)
    form = ReasonForm()
    form.validate()
    errors = services.withdraw_conflict(current_user, insp, conflict, form.reason.data)
    if not errors:
        flash(_("已撤销利害关系"), "success")
        return _back_to_detail(insp, "conflicts")
    key = f"conflict-{conflict.id}"
    return _detail(
        insp,
        block="conflicts_section",
        status=422,
        row_errors={key: errors["reason"]},
        row_reasons={key: form.reason.data or ""},
    )
