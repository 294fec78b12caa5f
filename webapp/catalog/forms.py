"""Forms of the item list and the admin pages.

The fields carry no WTForms validators of their own (whose messages would be English): the rules live in
``webapp.catalog.services`` and their Chinese messages are put next to the fields with :func:`apply_errors`.
Flask-WTF still checks the CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.auth.models import Organisation, OrgKind, Role
from webapp.catalog.services import DEPARTMENTS, PointData
from webapp.registry.labels import DEPT, ORG_KIND

ROLE_LABELS = {Role.ADMIN: _l("管理员"), Role.SUPERVISOR: _l("监管负责人"), Role.INSPECTOR: _l("执法检查人员")}
# Stored values are the official Chinese terms; these labels let the English catalogue translate them.
CATEGORY_LABELS = {"一般检查事项": _l("一般检查事项"), "重点检查事项": _l("重点检查事项")}
METHOD_LABELS = {"现场检查": _l("现场检查"), "抽样送检": _l("抽样送检"), "书面检查": _l("书面检查")}


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(getattr(value, "value", value), label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (large touch targets on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


class PointForm(Form):
    dept = SelectField(_l("部门"), choices=choices((d, DEPT[d]) for d in DEPARTMENTS), validate_choice=False)
    text = TextAreaField(_l("检查要点"), render_kw={"rows": 2})
    basis = StringField(_l("依据"))


class ItemForm(FlaskForm):
    code = StringField(
        _l("事项编码"), render_kw={"autocapitalize": "off", "spellcheck": "false", "placeholder": "fire-duty"}
    )
    org_id = SelectField(_l("所属机构"), coerce=str, validate_choice=False)
    name = StringField(_l("抽查事项名称"))
    basis = TextAreaField(_l("抽查依据"), render_kw={"rows": 2})
    subject = StringField(_l("检查主体"))
    target = StringField(_l("检查对象"))
    category = SelectField(_l("事项类别"), choices=choices(CATEGORY_LABELS.items()), validate_choice=False)
    methods = CheckboxesField(_l("检查方式"), choices=choices(METHOD_LABELS.items()))
    ratio_frequency = StringField(_l("抽查比例和频次"))
    departments = CheckboxesField(_l("参与部门"), choices=choices((d, DEPT[d]) for d in DEPARTMENTS))
    points = FieldList(FormField(PointForm), min_entries=1)
    change_note = StringField(_l("修改说明"))

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "basis": self.basis.data,
            "subject": self.subject.data,
            "target": self.target.data,
            "category": self.category.data,
            "methods": self.methods.data or [],
            "ratio_frequency": self.ratio_frequency.data,
            "departments": self.departments.data or [],
        }

    def point_rows(self) -> list[tuple[int, PointData]]:
        """Non-empty point rows with their index in the form (empty rows are ignored)."""
        rows = []
        for i, entry in enumerate(self.points):
            text = (entry.form.text.data or "").strip()
            if text:
                rows.append((i, PointData(entry.form.dept.data or "", text, (entry.form.basis.data or "").strip())))
        return rows

    def add_point(self) -> None:
        """One more empty row, for the department most likely next (the last row's)."""
        depts = self.departments.data or []
        last = self.points.entries[-1].form.dept.data if self.points.entries else None
        self.points.append_entry({"dept": last or (depts[0] if depts else "fire"), "text": "", "basis": ""})

    def remove_point(self, index: int) -> None:
        rows = [e.form.data for e in self.points.entries]
        if 0 <= index < len(rows):
            del rows[index]
        if not rows:
            rows = [{"dept": "fire", "text": "", "basis": ""}]
        self.points.entries = []
        self.points.last_index = -1
        for row in rows:
            self.points.append_entry(row)


def item_form_data(values: dict[str, Any], points: list[PointData]) -> dict[str, Any]:
    return {
        **values,
        "points": [{"dept": p.dept, "text": p.text, "basis": p.basis or ""} for p in points],
    }


class StatusForm(FlaskForm):
    """Deactivate or reactivate something, always with a reason."""

    action = HiddenField()
    reason = TextAreaField(_l("原因"), render_kw={"rows": 2})


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
    reason = StringField(_l("修改原因"))

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "short_name": self.short_name.data,
            "kind": self.kind.data,
            "dept": self.dept.data,
            "parent_id": self.parent_id.data,
            "region": self.region.data,
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


def apply_errors(form: FlaskForm, errors: dict[str, str], point_rows: list[tuple[int, PointData]] | None = None):
    """Put service errors next to their fields; ``_form`` (and unknown keys) go to ``form.form_errors``."""
    for key, msg in errors.items():
        field = None
        if key.startswith("points.") and point_rows is not None and hasattr(form, "points"):
            _, k, name = key.split(".")
            field = getattr(form.points[point_rows[int(k)][0]].form, name, None)
        elif key != "_form" and key in form:
            field = form[key]
        if field is None:
            form.form_errors = [*form.form_errors, msg]
        else:
            field.errors = [*field.errors, msg]
