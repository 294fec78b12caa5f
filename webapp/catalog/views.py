"""一单 (the random inspection item list) and the admin pages: organisations, users, working-day calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import calendar as cal
from webapp.auth.models import User
from webapp.auth.permissions import admin_required, supervisor_required
from webapp.catalog import services
from webapp.catalog.forms import (
    CATEGORY_LABELS,
    METHOD_LABELS,
    ROLE_LABELS,
    ItemForm,
    OrgForm,
    OverrideForm,
    PasswordResetForm,
    StatusForm,
    UserEditForm,
    UserForm,
    apply_errors,
    choices,
    int_or_none,
    item_form_data,
    org_choices,
    role_or_none,
)
from webapp.catalog.services import Invalid
from webapp.extensions import db
from webapp.web import render

bp = Blueprint("catalog", __name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _see_other(endpoint: str, **values: Any):
    return redirect(url_for(endpoint, **values), code=303)


def _labels() -> dict[str, Any]:
    return {"CATEGORY_LABELS": CATEGORY_LABELS, "METHOD_LABELS": METHOD_LABELS, "ROLE_LABELS": ROLE_LABELS}


# ---------------------------------------------------------------------------------------------- items


def _item_or_404(code: str):
    item = services.get_item(code)
    if item is None:
        abort(404)
    return item


@bp.route("/items")
@supervisor_required
def items():
    return render("catalog/items.html", items=services.list_items(), **_labels())


def _item_page(item, version, status_form: StatusForm | None = None, status: int = 200):
    return render(
        "catalog/item.html",
        status=status,
        item=item,
        version=version,
        groups=services.points_by_dept(version),
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


def _item_form_page(form: ItemForm, item, status: int, block: str | None = None):
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
                "points": [{"dept": "fire", "text": "", "basis": ""}] * 3,
            }
        )
    else:
        form = ItemForm()
    form.org_id.choices = choices(org_choices(services.org_tree(include_inactive=False), None))
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
            except Invalid as e:
                apply_errors(form, e.errors, rows)
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
            except Invalid as e:
                apply_errors(form, e.errors, rows)
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
    if form.validate_on_submit():
        if form.action.data not in ("deactivate", "reactivate"):
            abort(400)
        try:
            services.set_item_active(current_user, item, form.action.data == "reactivate", form.reason.data)
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已启用该事项。") if item.active else _("已停用该事项。"), "success")
            return _see_other("catalog.item_detail", code=item.code)
    return _item_page(item, item.current, form, status=422)


# ------------------------------------------------------------------------------------- organisations


def _org_or_404(org_id: int):
    org = services.get_org(org_id)
    if org is None:
        abort(404)
    return org


@bp.route("/admin/orgs")
@admin_required
def orgs():
    tree = services.org_tree()
    return render("admin/orgs.html", tree=tree, user_counts=services.user_counts())


def _org_parent_choices(form: OrgForm, org=None) -> None:
    tree = services.org_tree()
    excluded = services.subtree_ids(org.id) if org is not None else set()
    current_parent = org.parent_id if org is not None else None
    form.parent_id.choices = choices(
        org_choices(
            [(o, d) for o, d in tree if o.id not in excluded and (o.active or o.id == current_parent)], _("（无上级）")
        )
    )


@bp.route("/admin/orgs/new", methods=["GET", "POST"])
@admin_required
def org_new():
    form = OrgForm(data={"dept": "fire", "parent_id": request.args.get("parent", "")})
    _org_parent_choices(form)
    if form.validate_on_submit():
        try:
            org = services.create_org(current_user, form.code.data, form.values())
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已新增机构：%(name)s", name=org.name), "success")
            return _see_other("catalog.orgs")
    status = 422 if request.method == "POST" else 200
    return render("admin/org_form.html", status=status, form=form, org=None)


def _org_page(org, form: OrgForm, status_form: StatusForm, status: int):
    return render(
        "admin/org_form.html",
        status=status,
        form=form,
        org=org,
        status_form=status_form,
        blockers=services.org_blockers(org),
    )


def _org_edit_form(org, **kwargs: Any) -> OrgForm:
    form = OrgForm(
        data={
            "name": org.name,
            "short_name": org.short_name or "",
            "kind": org.kind.value,
            "dept": org.dept,
            "parent_id": str(org.parent_id or ""),
            "region": org.region or "",
        },
        **kwargs,
    )
    _org_parent_choices(form, org)
    return form


@bp.route("/admin/orgs/<int:org_id>", methods=["GET", "POST"])
@admin_required
def org_edit(org_id: int):
    org = _org_or_404(org_id)
    form = _org_edit_form(org)
    if form.validate_on_submit():
        try:
            services.update_org(current_user, org, form.values(), form.reason.data)
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已保存机构：%(name)s", name=org.name), "success")
            return _see_other("catalog.orgs")
    status = 422 if request.method == "POST" else 200
    return _org_page(org, form, StatusForm(formdata=None), status)


@bp.route("/admin/orgs/<int:org_id>/status", methods=["POST"])
@admin_required
def org_status(org_id: int):
    org = _org_or_404(org_id)
    form = StatusForm()
    if form.validate_on_submit():
        if form.action.data not in ("deactivate", "reactivate"):
            abort(400)
        try:
            services.set_org_active(current_user, org, form.action.data == "reactivate", form.reason.data)
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(
                _("已启用机构：%(name)s", name=org.name) if org.active else _("已停用机构：%(name)s", name=org.name),
                "success",
            )
            return _see_other("catalog.org_edit", org_id=org.id)
    return _org_page(org, _org_edit_form(org, formdata=None), form, 422)


# --------------------------------------------------------------------------------------------- users


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/users")
@admin_required
def users():
    org_id = int_or_none(request.args.get("org"))
    role = role_or_none(request.args.get("role"))
    status = request.args.get("status", "active")
    if status not in ("active", "inactive", "all"):
        status = "active"
    active = {"active": True, "inactive": False}.get(status)
    found = services.list_users(org_id=org_id, role=role, active=active)
    filters = {"org": org_id, "role": role.value if role else "", "status": status}
    return render(
        "admin/users.html",
        block="results",
        users=found,
        filters=filters,
        org_options=org_choices(services.org_tree(), _("全部机构")),
        **_labels(),
    )


def _user_org_choices(include_id: int | None = None) -> list:
    tree = [(o, d) for o, d in services.org_tree() if o.active or o.id == include_id]
    return choices(org_choices(tree, _("请选择")))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserForm(data={"org_id": request.args.get("org", "")})
    form.org_id.choices = _user_org_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                current_user,
                form.username.data,
                form.display_name.data,
                form.password.data,
                role_or_none(form.role.data),
                int_or_none(form.org_id.data),
            )
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已新增用户：%(name)s", name=user.username), "success")
            return _see_other("catalog.user_edit", user_id=user.id)
    status = 422 if request.method == "POST" else 200
    return render("admin/user_new.html", status=status, form=form)


def _user_page(user: User, *, form=None, password_form=None, status_form=None, status: int = 200):
    if form is None:
        form = UserEditForm(
            formdata=None,
            data={"display_name": user.display_name, "role": user.role.value, "org_id": str(user.org_id)},
        )
        form.org_id.choices = _user_org_choices(user.org_id)
    return render(
        "admin/user.html",
        status=status,
        user=user,
        form=form,
        password_form=password_form or PasswordResetForm(formdata=None),
        status_form=status_form or StatusForm(formdata=None),
        **_labels(),
    )


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    form = UserEditForm(data={"display_name": user.display_name, "role": user.role.value, "org_id": str(user.org_id)})
    form.org_id.choices = _user_org_choices(user.org_id)
    if form.validate_on_submit():
        try:
            services.update_user(
                current_user, user, form.display_name.data, role_or_none(form.role.data), int_or_none(form.org_id.data)
            )
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已保存用户：%(name)s", name=user.username), "success")
            return _see_other("catalog.user_edit", user_id=user.id)
    return _user_page(user, form=form, status=422 if request.method == "POST" else 200)


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@admin_required
def user_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(current_user, user, form.password.data)
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已重置密码，该用户在所有设备上的登录均已退出。"), "success")
            return _see_other("catalog.user_edit", user_id=user.id)
    return _user_page(user, password_form=form, status=422)


@bp.route("/admin/users/<int:user_id>/status", methods=["POST"])
@admin_required
def user_status(user_id: int):
    user = _user_or_404(user_id)
    form = StatusForm()
    if form.validate_on_submit():
        if form.action.data not in ("deactivate", "reactivate"):
            abort(400)
        try:
            services.set_user_active(current_user, user, form.action.data == "reactivate", form.reason.data)
        except Invalid as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已启用该用户。") if user.active else _("已停用该用户，其登录已失效。"), "success")
            return _see_other("catalog.user_edit", user_id=user.id)
    return _user_page(user, status_form=form, status=422)


# ------------------------------------------------------------------------------------------ calendar

MIN_YEAR, MAX_YEAR = 2000, 2100


def _parse_day(value: str | None) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


@bp.route("/admin/calendar", methods=["GET", "POST"])
@admin_required
def calendar():
    today = dt.datetime.now(SHANGHAI).date()
    form = OverrideForm()
    status = 200
    if request.method == "POST":
        day = _parse_day(form.day.data)
        if form.validate_on_submit():
            try:
                if day is None and (form.day.data or "").strip():
                    raise Invalid({"day": _("请选择有效的日期")})
                services.set_override(
                    current_user, day, {"0": False, "1": True}.get(form.is_workday.data or ""), form.note.data
                )
            except Invalid as e:
                apply_errors(form, e.errors)
            else:
                db.session.commit()
                flash(
                    _(
                        "已设置 %(day)s 为%(kind)s。",
                        day=day.isoformat(),
                        kind=_("工作日") if form.is_workday.data == "1" else _("休息日"),
                    ),
                    "success",
                )
                return _see_other("catalog.calendar", year=day.year, month=day.month)
        status = 422
        year, month = (day.year, day.month) if day else (today.year, today.month)
    else:
        year = int_or_none(request.args.get("year")) or today.year
        if not MIN_YEAR <= year <= MAX_YEAR:
            year = today.year
        month = int_or_none(request.args.get("month")) or (today.month if year == today.year else 1)
        if not 1 <= month <= 12:
            month = 1
        day = _parse_day(request.args.get("day"))
        if day is not None:
            year, month = day.year, day.month
            form.day.data = day.isoformat()
            form.is_workday.data = "0" if cal.is_workday(day, cal.db_overrides(day, day)) else "1"
    overrides = services.year_overrides(year)
    overrides_this_month = cal.db_overrides(*cal.month_bounds(year, month))
    return render(
        "admin/calendar.html",
        status=status,
        form=form,
        year=year,
        month=month,
        known=cal.year_known(year),
        weeks=services.month_grid(year, month, today),
        overrides=[(o, services.official_is_workday(o.day)) for o in overrides],
        draw_days=cal.last_working_days(year, month, 2, overrides_this_month),
        working_count=len(cal.working_days_of_month(year, month, overrides_this_month)),
    )
