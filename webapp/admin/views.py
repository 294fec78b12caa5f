"""The admin pages: organisations, users and the working-day calendar (URLs under /admin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import calendar as cal
from webapp import calendar_notice
from webapp.admin import queries, services
from webapp.admin.forms import (
    ConfirmYearForm,
    NoticeForm,
    OrgForm,
    OverrideForm,
    PasswordResetForm,
    RangesForm,
    UserEditForm,
    UserForm,
    int_or_none,
    org_choices,
    role_or_none,
)
from webapp.admin.labels import YEAR_STATUS
from webapp.auth import services as auth_services
from webapp.auth.forms import StatusForm
from webapp.auth.labels import ROLE_LABELS
from webapp.auth.models import Organisation, User
from webapp.auth.permissions import admin_required
from webapp.extensions import db
from webapp.web import ServiceError, apply_errors, choices, render, submit_status

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _see_other(endpoint: str, **values: Any):
    return redirect(url_for(endpoint, **values), code=303)


# ------------------------------------------------------------------------------------- organisations


def _org_or_404(org_id: int) -> Organisation:
    org = queries.get_org(org_id)
    if org is None:
        abort(404)
    return org


@bp.route("/orgs")
@admin_required
def orgs():
    return render("admin/orgs.html", tree=queries.org_tree(), user_counts=queries.user_counts())


def _org_parent_choices(form: OrgForm, org: Organisation | None = None) -> None:
    tree = queries.org_tree()
    excluded = queries.subtree_ids(org.id) if org is not None else set()
    current_parent = org.parent_id if org is not None else None
    form.parent_id.choices = choices(
        org_choices(
            [(o, d) for o, d in tree if o.id not in excluded and (o.active or o.id == current_parent)], _("（无上级）")
        )
    )


@bp.route("/orgs/new", methods=["GET", "POST"])
@admin_required
def org_new():
    form = OrgForm(data={"dept": "fire", "parent_id": request.args.get("parent", "")})
    _org_parent_choices(form)
    if form.validate_on_submit():
        try:
            org = services.create_org(current_user, form.code.data, form.values())
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已新增机构：%(name)s", name=org.name), "success")
            return _see_other("admin.orgs")
    status = 422 if request.method == "POST" else 200
    return render("admin/org_form.html", status=status, form=form, org=None)


def _org_page(org: Organisation, form: OrgForm, status_form: StatusForm, status: int):
    return render(
        "admin/org_form.html",
        status=status,
        form=form,
        org=org,
        status_form=status_form,
        blockers=queries.org_blockers(org),
    )


def _org_edit_form(org: Organisation, **kwargs: Any) -> OrgForm:
    form = OrgForm(
        data={
            "name": org.name,
            "short_name": org.short_name or "",
            "kind": org.kind.value,
            "dept": org.dept,
            "parent_id": str(org.parent_id or ""),
            "region": org.region or "",
            "checkin_radius": str(services.own_checkin_radius(org.id) or ""),
        },
        **kwargs,
    )
    _org_parent_choices(form, org)
    return form


@bp.route("/orgs/<int:org_id>", methods=["GET", "POST"])
@admin_required
def org_edit(org_id: int):
    org = _org_or_404(org_id)
    form = _org_edit_form(org)
    if form.validate_on_submit():
        try:
            services.update_org(current_user, org, form.values(), form.reason.data)
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已保存机构：%(name)s", name=org.name), "success")
            return _see_other("admin.orgs")
    status = 422 if request.method == "POST" else 200
    return _org_page(org, form, StatusForm(formdata=None), status)


@bp.route("/orgs/<int:org_id>/status", methods=["POST"])
@admin_required
def org_status(org_id: int):
    org = _org_or_404(org_id)
    form = StatusForm()
    if submit_status(form, lambda active, reason: services.set_org_active(current_user, org, active, reason)):
        flash(
            _("已启用机构：%(name)s", name=org.name) if org.active else _("已停用机构：%(name)s", name=org.name),
            "success",
        )
        return _see_other("admin.org_edit", org_id=org.id)
    return _org_page(org, _org_edit_form(org, formdata=None), form, 422)


# --------------------------------------------------------------------------------------------- users


def _user_or_404(user_id: int) -> User:
    user = auth_services.get_user(user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users")
@admin_required
def users():
    org_id = int_or_none(request.args.get("org"))
    role = role_or_none(request.args.get("role"))
    status = request.args.get("status", "active")
    if status not in ("active", "inactive", "all"):
        status = "active"
    active = {"active": True, "inactive": False}.get(status)
    found = queries.list_users(org_id=org_id, role=role, active=active)
    filters = {"org": org_id, "role": role.value if role else "", "status": status}
    return render(
        "admin/users.html",
        block="results",
        users=found,
        filters=filters,
        org_options=org_choices(queries.org_tree(), _("全部机构")),
        ROLE_LABELS=ROLE_LABELS,
    )


def _user_org_choices(include_id: int | None = None) -> list:
    tree = [(o, d) for o, d in queries.org_tree() if o.active or o.id == include_id]
    return choices(org_choices(tree, _("请选择")))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserForm(data={"org_id": request.args.get("org", "")})
    form.org_id.choices = _user_org_choices()
    if form.validate_on_submit():
        try:
            user = auth_services.create_user(
                current_user,
                form.username.data,
                form.display_name.data,
                form.password.data,
                role_or_none(form.role.data),
                int_or_none(form.org_id.data),
            )
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已新增用户：%(name)s", name=user.username), "success")
            return _see_other("admin.user_edit", user_id=user.id)
    status = 422 if request.method == "POST" else 200
    return render("admin/user_new.html", status=status, form=form)


def _user_page(
    user: User,
    *,
    form: UserEditForm | None = None,
    password_form: PasswordResetForm | None = None,
    status_form: StatusForm | None = None,
    status: int = 200,
):
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
        ROLE_LABELS=ROLE_LABELS,
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    form = UserEditForm(data={"display_name": user.display_name, "role": user.role.value, "org_id": str(user.org_id)})
    form.org_id.choices = _user_org_choices(user.org_id)
    if form.validate_on_submit():
        try:
            auth_services.update_user(
                current_user, user, form.display_name.data, role_or_none(form.role.data), int_or_none(form.org_id.data)
            )
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已保存用户：%(name)s", name=user.username), "success")
            return _see_other("admin.user_edit", user_id=user.id)
    return _user_page(user, form=form, status=422 if request.method == "POST" else 200)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_required
def user_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            auth_services.reset_password(current_user, user, form.password.data)
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已重置密码，该用户在所有设备上的登录均已退出。"), "success")
            return _see_other("admin.user_edit", user_id=user.id)
    return _user_page(user, password_form=form, status=422)


@bp.route("/users/<int:user_id>/status", methods=["POST"])
@admin_required
def user_status(user_id: int):
    user = _user_or_404(user_id)
    form = StatusForm()
    if submit_status(form, lambda active, reason: auth_services.set_user_active(current_user, user, active, reason)):
        flash(_("已启用该用户。") if user.active else _("已停用该用户，其登录已失效。"), "success")
        return _see_other("admin.user_edit", user_id=user.id)
    return _user_page(user, status_form=form, status=422)


# ------------------------------------------------------------------------------------------ calendar

MIN_YEAR, MAX_YEAR = 2000, 2100


def _parse_day(value: str | None) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _calendar_page(
    year: int,
    month: int,
    *,
    status: int = 200,
    form: OverrideForm | None = None,
    notice_form: NoticeForm | None = None,
    ranges_form: RangesForm | None = None,
    confirm_form: ConfirmYearForm | None = None,
    review: calendar_notice.ParsedYear | None = None,
    review_kind: str | None = None,
):
    today = cal.today()
    overrides = queries.year_overrides(year)
    overrides_this_month = cal.db_overrides(*cal.month_bounds(year, month))
    return render(
        "admin/calendar.html",
        status=status,
        form=form or OverrideForm(formdata=None),
        notice_form=notice_form or NoticeForm(formdata=None),
        ranges_form=ranges_form or RangesForm(formdata=None, data={"year": str(year)}),
        confirm_form=confirm_form or ConfirmYearForm(formdata=None, data={"year": str(year)}),
        review=review,
        review_kind=review_kind,
        review_rows=queries.review_rows(review) if review is not None else [],
        review_digest=queries.review_digest(review) if review is not None else "",
        year=year,
        month=month,
        library_known=cal.library_knows(year),
        year_record=cal.year_record(year),
        YEAR_STATUS=YEAR_STATUS,
        gate=cal.period_gate(dt.date(year, 1, 1), dt.date(year, 12, 31)),
        weeks=queries.month_grid(year, month, today),
        overrides=[(o, queries.official_is_workday(o.day)) for o in overrides],
        draw_days=cal.last_working_days(year, month, 2, overrides_this_month),
        working_count=len(cal.working_days_of_month(year, month, overrides_this_month)),
    )


@bp.route("/calendar", methods=["GET", "POST"])
@admin_required
def calendar():
    today = cal.today()
    form = OverrideForm()
    status = 200
    if request.method == "POST":
        day = _parse_day(form.day.data)
        if form.validate_on_submit():
            try:
                if day is None and (form.day.data or "").strip():
                    raise services.Invalid({"day": _("请选择有效的日期")})
                services.set_override(
                    current_user, day, {"0": False, "1": True}.get(form.is_workday.data or ""), form.note.data
                )
            except ServiceError as e:
                apply_errors(form, e.errors)
            else:
                assert day is not None  # set_override refuses a missing day
                db.session.commit()
                flash(
                    _(
                        "已设置 %(day)s 为%(kind)s。",
                        day=day.isoformat(),
                        kind=_("工作日") if form.is_workday.data == "1" else _("休息日"),
                    ),
                    "success",
                )
                return _see_other("admin.calendar", year=day.year, month=day.month)
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
    return _calendar_page(year, month, status=status, form=form)


def _review_year(parsed: calendar_notice.ParsedYear, fallback: object) -> int:
    year = parsed.year or calendar_notice.clean_year(fallback)
    return year if year is not None else cal.today().year


def _enter_reviewed(parsed: calendar_notice.ParsedYear, form: NoticeForm | RangesForm, kind: str) -> Any:
    """Parse (review, nothing saved) or save what the admin reviewed; the page again with 422 on a problem."""
    saving = request.form.get("action") == "save"
    refused = not parsed.ok
    if saving and parsed.ok and request.form.get("digest") != queries.review_digest(parsed):
        # the text now reads differently from what was reviewed: show the new review, save nothing
        form.form_errors.append(_("内容在预览后有改动，请核对下方新的预览后再保存"))
        refused = True
    elif saving and parsed.ok:
        try:
            changed = services.enter_year(current_user, parsed)
        except ServiceError as e:
            apply_errors(form, e.errors)
            refused = True
        else:
            db.session.commit()
            assert parsed.year is not None
            flash(
                _(
                    "已录入%(y)d年的节假日安排：放假%(h)d天、调休上班%(w)d天（%(n)d天有改动）。",
                    y=parsed.year,
                    h=len(parsed.holidays),
                    w=len(parsed.workdays),
                    n=changed,
                ),
                "success",
            )
            return _see_other("admin.calendar", year=parsed.year)
    apply_errors(form, parsed.errors)
    return _calendar_page(
        _review_year(parsed, form.year.data),
        1,
        status=422 if refused else 200,
        notice_form=form if isinstance(form, NoticeForm) else None,
        ranges_form=form if isinstance(form, RangesForm) else None,
        review=parsed,
        review_kind=kind,
    )


@bp.route("/calendar/notice", methods=["POST"])
@admin_required
def calendar_notice_post():
    form = NoticeForm()
    if not form.validate_on_submit():
        abort(400)
    parsed = calendar_notice.parse_notice(form.notice.data or "", form.year.data)
    return _enter_reviewed(parsed, form, "notice")


@bp.route("/calendar/ranges", methods=["POST"])
@admin_required
def calendar_ranges_post():
    form = RangesForm()
    if not form.validate_on_submit():
        abort(400)
    parsed = calendar_notice.parse_ranges(form.year.data, form.lines("holidays"), form.lines("workdays"))
    return _enter_reviewed(parsed, form, "ranges")


@bp.route("/calendar/confirm", methods=["POST"])
@admin_required
def calendar_confirm():
    form = ConfirmYearForm()
    if form.validate_on_submit():
        try:
            record = services.confirm_year(current_user, form.year.data, form.reason.data)
        except ServiceError as e:
            apply_errors(form, e.errors)
        else:
            db.session.commit()
            flash(_("已确认%(y)d年暂无节假日安排，原因已记入审计日志。", y=record.year), "success")
            return _see_other("admin.calendar", year=record.year)
    else:
        abort(400)
    year = calendar_notice.clean_year(form.year.data) or cal.today().year
    return _calendar_page(year, 1, status=422, confirm_form=form)
