"""检查对象名录库: list, search, detail, create/edit, status changes and the data-quality view."""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from webapp.auth.access import visible_org_ids
from webapp.auth.permissions import supervisor_required
from webapp.extensions import db
from webapp.registry.labels import UNIT_FIELD, UNIT_STATUS
from webapp.registry.queries import visible_orgs
from webapp.registry.services import RecordError
from webapp.registry.units import queries, services
from webapp.registry.units.forms import StatusForm, UnitForm, initial_data
from webapp.registry.units.queries import MISSING_CHOICES, QUALITY_FIELDS, UnitFilters
from webapp.registry.views import bp
from webapp.web import after_arg, after_post, apply_errors, choices, is_htmx, render


def _unit_or_404(public_id: str):
    unit = queries.get_unit(current_user, public_id)
    if unit is None:
        abort(404)
    return unit


@bp.route("/units")
@supervisor_required
def units():
    filters = UnitFilters.from_args(request.args)
    page = queries.list_units(
        current_user, filters, after=after_arg(), page_size=current_app.config.get("PAGE_SIZE", 50)
    )
    context = {
        "filters": filters,
        "page": page,
        "after": after_arg(),
        "count_cap": queries.COUNT_CAP,
    }
    if not is_htmx():  # the filter form is outside the results block: only full pages need its options
        orgs = visible_orgs(current_user)
        context["regions"] = queries.visible_regions(current_user)
        context["orgs"] = orgs if len(orgs) > 1 else []
        context["missing_choices"] = MISSING_CHOICES
    return render("registry/units.html", block="results", **context)


@bp.route("/units/new", methods=["GET", "POST"])
@supervisor_required
def unit_new():
    form = UnitForm(data=initial_data(None, current_user.org_id))
    _org_choices(form)
    if form.validate_on_submit():
        try:
            unit = services.create_unit(current_user, form.org_id.data, form.raw_values())
        except RecordError as exc:
            apply_errors(form, _with_duplicate_link(exc))
        else:
            db.session.commit()
            flash(_("已新增检查对象：%(name)s", name=unit.name), "success")
            return after_post(url_for("registry.unit_detail", public_id=unit.public_id))
    status = 422 if request.method == "POST" else 200
    return render("registry/unit_form.html", block="unit_form", status=status, form=form, unit=None)


@bp.route("/units/<public_id>")
@supervisor_required
def unit_detail(public_id: str):
    unit = _unit_or_404(public_id)
    return _detail(unit, StatusForm(formdata=None).for_unit(unit))


def _detail(unit, status_form: StatusForm, status: int = 200):
    return render(
        "registry/unit_detail.html",
        block="status_form",
        status=status,
        unit=unit,
        history=queries.history(current_user, unit),
        status_form=status_form,
        labels=UNIT_FIELD,
    )


@bp.route("/units/<public_id>/edit", methods=["GET", "POST"])
@supervisor_required
def unit_edit(public_id: str):
    unit = _unit_or_404(public_id)
    form = UnitForm(data=initial_data(unit, current_user.org_id))
    _org_choices(form)
    if form.validate_on_submit():
        try:
            changes = services.update_unit(current_user, unit, form.org_id.data, form.raw_values(), form.reason.data)
        except RecordError as exc:
            apply_errors(form, _with_duplicate_link(exc))
        else:
            db.session.commit()
            if changes:
                flash(_("已保存修改"), "success")
            else:
                flash(_("没有需要保存的修改"), "warning")
            return after_post(url_for("registry.unit_detail", public_id=unit.public_id))
    status = 422 if request.method == "POST" else 200
    return render("registry/unit_form.html", block="unit_form", status=status, form=form, unit=unit)


@bp.route("/units/<public_id>/status", methods=["POST"])
@supervisor_required
def unit_status(public_id: str):
    unit = _unit_or_404(public_id)
    form = StatusForm().for_unit(unit)
    form.validate()  # CSRF (also enforced app-wide by CSRFProtect); the rules are in change_status
    old = unit.status
    try:
        services.change_status(current_user, unit, form.status.data, form.reason.data)
    except RecordError as exc:
        apply_errors(form, exc.errors)
        return _detail(unit, form, status=422)
    db.session.commit()
    flash(_("状态已变更：%(old)s → %(new)s", old=UNIT_STATUS[old], new=UNIT_STATUS[unit.status]), "success")
    return after_post(url_for("registry.unit_detail", public_id=unit.public_id))


@bp.route("/quality")
@supervisor_required
def quality():
    total, per_org = queries.quality_report(current_user)
    return render(
        "registry/quality.html",
        total=total,
        per_org=per_org,
        fields=QUALITY_FIELDS,
        stale_days=queries.SUSPECT_STALE_DAYS,
    )


def _org_choices(form: UnitForm) -> None:
    form.org_id.choices = choices((str(o.id), o.name) for o in visible_orgs(current_user))


def _with_duplicate_link(exc: RecordError) -> dict:
    """Make the duplicate-USCC message link to the unit that holds the code, when the user may open it."""
    errors: dict = dict(exc.errors)
    holder = exc.duplicate
    if holder is not None and "uscc" in errors:
        ids = visible_org_ids(current_user)
        if ids is None or holder.org_id in ids:
            link = Markup('<a href="{}">{}</a>').format(
                url_for("registry.unit_detail", public_id=holder.public_id), holder.name
            )
            errors["uscc"] = escape(_("该统一社会信用代码已属于：%(name)s")) % {"name": link}
        else:
            errors["uscc"] = _("该统一社会信用代码已属于：%(name)s（%(org)s）", name=holder.name, org=holder.org.name)
    return errors
