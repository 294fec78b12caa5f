"""Forms of the admin pages: organisations, users, the working-day calendar.

The fields carry no WTForms validators of their own (whose messages would be English): the rules live in
``webapp.admin.services`` and ``webapp.auth.services`` and their Chinese messages are put next to the fields
with :func:`webapp.web.apply_errors`. Flask-WTF still checks the CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, StringField, TextAreaField

from webapp.auth.labels import ORG_KIND, ROLE_LABELS
from webapp.auth.models import DEPARTMENTS, Organisation, OrgKind, Role
from webapp.registry.labels import DEPT
from webapp.web import choices


class OrgForm(FlaskForm):
    code = StringField(_l("机构代码"), render_kw={"autocapitalize": "off", "spellcheck": "false"})
    name = StringField(_l("机构名称"))
    short_name = StringField(_l("简称"))
    kind = SelectField(
        _l("机构类型"),
        choices=choices([("", _l("请选择")), *((k.value, ORG_KIND[k]) for k in OrgKind)]),
        validate_choice=False,
    )
    dept = SelectField(_l("所属部门"), choices=choices((d, DEPT[d]) for d in DEPARTMENTS), validate_choice=False)
    parent_id = SelectField(_l("上级机构"), validate_choice=False)
    region = StringField(_l("所属区域"))
    checkin_radius = StringField(_l("签到范围（米）"), render_kw={"inputmode": "numeric"})
    reason = StringField(_l("修改原因"))

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "short_name": self.short_name.data,
            "kind": self.kind.data,
            "dept": self.dept.data,
            "parent_id": self.parent_id.data,
            "region": self.region.data,
            "checkin_radius": self.checkin_radius.data,
        }


def org_choices(tree: list[tuple[Organisation, int]], blank: str | None) -> list[tuple[str, str]]:
    """Organisations for a select, indented like the tree; inactive ones marked."""
    out = [("", blank)] if blank is not None else []
    for org, depth in tree:
        label = "\u3000" * depth + org.name + ("" if org.active else str(_l("（已停用）")))
        out.append((str(org.id), label))
    return out


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), render_kw={"autocapitalize": "off", "spellcheck": "false"})
    display_name = StringField(_l("姓名"))
    role = SelectField(
        _l("角色"),
        choices=choices([("", _l("请选择")), *((r.value, ROLE_LABELS[r]) for r in Role)]),
        validate_choice=False,
    )
    org_id = SelectField(_l("所属机构"), validate_choice=False)
    password = PasswordField(_l("初始密码"), render_kw={"autocomplete": "new-password"})


class UserEditForm(FlaskForm):
    display_name = StringField(_l("姓名"))
    role = SelectField(_l("角色"), choices=choices((r.value, ROLE_LABELS[r]) for r in Role), validate_choice=False)
    org_id = SelectField(_l("所属机构"), validate_choice=False)


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("新密码"), render_kw={"autocomplete": "new-password"})


class OverrideForm(FlaskForm):
    day = StringField(_l("日期"), render_kw={"type": "date"})
    is_workday = RadioField(
        _l("类型"),
        choices=choices([("0", _l("休息日（放假）")), ("1", _l("工作日（调休上班）"))]),
        validate_choice=False,
    )
    note = StringField(_l("说明"), render_kw={"placeholder": _l("如：春节、国庆节调休上班")})


class NoticeForm(FlaskForm):
    """The State Council's notice pasted for parsing; ``action`` is ``parse`` (review) or ``save``."""

    notice = TextAreaField(
        _l("放假通知全文"),
        render_kw={"rows": 10, "placeholder": _l("国务院办公厅关于2027年部分节假日安排的通知……一、元旦：……")},
    )
    year = StringField(_l("年份"), render_kw={"inputmode": "numeric", "placeholder": _l("可不填：取自通知标题")})


class RangesForm(FlaskForm):
    """A year's holidays and 调休 working days typed by hand, one entry per line."""

    year = StringField(_l("年份"), render_kw={"inputmode": "numeric"})
    holidays = TextAreaField(
        _l("放假日期"), render_kw={"rows": 5, "placeholder": "2027-02-06:2027-02-12 春节\n2027-10-01:2027-10-07 国庆节"}
    )
    workdays = TextAreaField(_l("调休上班日期"), render_kw={"rows": 3, "placeholder": "2027-02-14\n2027-10-09"})

    def lines(self, name: str) -> list[str]:
        return [ln for ln in (self[name].data or "").splitlines() if ln.strip()]


class ConfirmYearForm(FlaskForm):
    year = StringField(_l("年份"), render_kw={"inputmode": "numeric"})
    reason = StringField(_l("原因"), render_kw={"placeholder": _l("如：国务院办公厅尚未公布该年的放假安排")})


def role_or_none(value: str | None) -> Role | None:
    try:
        return Role(value) if value else None
    except ValueError:
        return None


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
