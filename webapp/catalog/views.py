"""一单: the random inspection item list (supervisors read it, admins keep it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.admin.forms import int_or_none, org_choices
from webapp.admin.queries import org_tree
from webapp.auth.forms import StatusForm
from webapp.auth.permissions import admin_required, supervisor_required
from webapp.catalog import services
from webapp.catalog.forms import (
    CATEGORY_LABELS,
    METHOD_LABELS,
    CommonProblemForm,
    ItemForm,
    item_form_data,
    point_field,
)
from webapp.catalog.labels import SUGGESTED_ORDER
from webapp.catalog.models import Item, ItemVersion
from webapp.extensions import db
from webapp.registry.models import ObjectType
from webapp.web import ServiceError, apply_errors, choices, render, submit_status

bp = Blueprint("catalog", __name__)


def _see_other(endpoint: str, **values: Any):
    return redirect(url_for(endpoint, **values), code=303)


def _labels() -> dict[str, Any]:
    return {"CATEGORY_LABELS": CATEGORY_LABELS, "METHOD_LABELS": METHOD_LABELS}


# ---------------------------------------------------------------------------------------------- items


def _item_or_404(code: str) -> Item:
    item = services.get_item(code)
    if item is None:
        abort(404)
    return item


@bp.route("/items")
@supervisor_required
def items():
    return render("catalog/items.html", items=services.list_items(), **_labels())


def _item_page(item: Item, version: ItemVersion, status_form: StatusForm | None = None, status: int = 200):
    return render(
        "catalog/item.html",
        status=status,
        item=item,
        version=version,
        groups=services.points_by_dept(version),
        problem_count=len(services.list_problems(item, active_only=True)),
        status_form=status_form or StatusForm(formdata=None),
        **_labels(),
    )


@bp.route("/items/<code>")
@supervisor_required
def item_detail(code: str):
    item = _item_or_404(code)
    return _item_page(item, item.current)


@bp.route("/items/<code>/v/<int:number>")
@supervisor_required
def item_version(code: str, number: int):
    item = _item_or_404(code)
    version = next((v for v in item.versions if v.version == number), None)
    if version is None:
        abort(404)
    return _item_page(item, version)


def _points_op(form: ItemForm) -> bool:
    """The points editor's own buttons (add a row, remove a row): re-render, save nothing."""
    op = request.form.get("op", "")
    if op == "add":
        form.add_point()
        return True
    if op.startswith("remove-"):
        index = int_or_none(op.removeprefix("remove-"))
        form.remove_point(-1 if index is None else index)
        return True
    return False


def _item_form_page(form: ItemForm, item: Item | None, status: int, block: str | None = None):
    return render("catalog/item_form.html", block=block, status=status, form=form, item=item, **_labels())


@bp.route("/items/new", methods=["GET", "POST"])
@admin_required
def item_new():
    if request.method == "GET":
        form = ItemForm(
            data={
                "org_id": str(current_user.org_id),
                "category": "一般检查事项",
                "methods": ["现场检查"],
                "departments": ["fire"],
                "target_types": [ObjectType.SOCIAL_UNIT.value],
                "points": [{"dept": "fire", "text": "", "basis": ""}] * 3,
            }
        )
    else:
        form = ItemForm()
    form.org_id.choices = choices(org_choices(org_tree(include_inactive=False), None))
    if request.method == "POST":
        if _points_op(form):
            return _item_form_page(form, None, 200, block="points")
        if form.validate_on_submit():
            rows = form.point_rows()
            try:
                item = services.create_item(
                    current_user,
                    code=form.code.data,
                    org_id=int_or_none(form.org_id.data) or 0,
                    values=form.values(),
                    points=[p for _i, p in rows],
                    change_note=_("新建"),
                )
            except ServiceError as e:
                apply_errors(form, e.errors, point_field(form, rows))
            else:
                db.session.commit()
                flash(_("已新建抽查事项：%(name)s", name=item.current.name), "success")
                return _see_other("catalog.item_detail", code=item.code)
    return _item_form_page(form, None, 422 if request.method == "POST" else 200)


@bp.route("/items/<code>/edit", methods=["GET", "POST"])
@admin_required
def item_edit(code: str):
    item = _item_or_404(code)
    if request.method == "GET":
        current = item.current
        data = item_form_data(services.version_values(current), services.version_points(current))
        form = ItemForm(data=data)
        form.add_point()
    else:
        form = ItemForm()
    if request.method == "POST":
        if _points_op(form):
            return _item_form_page(form, item, 200, block="points")
        if form.validate_on_submit():
            rows = form.point_rows()
            try:
                version = services.create_version(
                    current_user, item, form.values(), [p for _i, p in rows], form.change_note.data
                )
            except ServiceError as e:
                apply_errors(form, e.errors, point_field(form, rows))
            else:
                db.session.commit()
                flash(_("已保存为第%(n)d版，之前的版本仍保留可查。", n=version.version), "success")
                return _see_other("catalog.item_detail", code=item.code)
    return _item_form_page(form, item, 422 if request.method == "POST" else 200)


@bp.route("/items/<code>/status", methods=["POST"])
@admin_required
def item_status(code: str):
    item = _item_or_404(code)
    form = StatusForm()
    if submit_status(form, lambda active, reason: services.set_item_active(current_user, item, active, reason)):
        flash(_("已启用该事项。") if item.active else _("已停用该事项。"), "success")
        return _see_other("catalog.item_detail", code=item.code)
    return _item_page(item, item.current, form, status=422)


# ------------------------------------------------------------------------------- common-problem library


def _problems_page(item: Item, form: CommonProblemForm, status: int = 200, block: str | None = None):
    return render(
        "catalog/problems.html",
        block=block,
        status=status,
        item=item,
        problems=services.list_problems(item),
        form=form,
        SUGGESTED_ORDER=SUGGESTED_ORDER,
    )


@bp.route("/items/<code>/problems", methods=["GET", "POST"])
@supervisor_required
def problems(code: str):
    """常见问题库 of an item: what inspectors pick on site to fill a finding (supervisors keep it)."""
    item = _item_or_404(code)
    form = CommonProblemForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            problem = services.add_problem(current_user, item, form.values())
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已加入常见问题库：%(text)s", text=problem.text), "success")
            return _see_other("catalog.problems", code=item.code)
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form = CommonProblemForm(formdata=None)
    return _problems_page(item, form, status, block="problem_form" if request.method == "POST" else None)


@bp.route("/items/<code>/problems/<int:problem_id>", methods=["GET", "POST"])
@supervisor_required
def problem_edit(code: str, problem_id: int):
    item = _item_or_404(code)
    problem = services.get_problem(item, problem_id)
    if problem is None:
        abort(404)
    if request.method == "GET":
        form = CommonProblemForm(
            formdata=None,
            data={
                "text": problem.text,
                "legal_basis": problem.legal_basis,
                "order_kind": problem.order_kind.value,
                "deadline_days": str(problem.deadline_days or ""),
            },
        )
    else:
        form = CommonProblemForm()
        if form.validate_on_submit():
            try:
                changes = services.update_problem(current_user, problem, form.values())
            except ServiceError as e:
                apply_errors(form, e.errors)
            else:
                db.session.commit()
                flash(_("已保存修改") if changes else _("没有需要保存的修改"), "success" if changes else "warning")
                return _see_other("catalog.problems", code=item.code)
    return render(
        "catalog/problem_form.html",
        block="problem_form",
        status=422 if request.method == "POST" else 200,
        item=item,
        problem=problem,
        form=form,
    )


@bp.route("/items/<code>/problems/<int:problem_id>/status", methods=["POST"])
@supervisor_required
def problem_status(code: str, problem_id: int):
    item = _item_or_404(code)
    problem = services.get_problem(item, problem_id)
    if problem is None:
        abort(404)
    CommonProblemForm().validate()  # CSRF (also enforced app-wide)
    active = request.form.get("action") == "enable"
    services.set_problem_active(current_user, problem, active)
    db.session.commit()
    flash(_("已重新启用该问题。") if active else _("已停用该问题，现场不再提供。"), "success")
    return _see_other("catalog.problems", code=item.code)
