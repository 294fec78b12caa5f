"""Forms of the item list (一单).

The fields carry no WTForms validators of their own (whose messages would be English): the rules live in
``webapp.catalog.services`` and their Chinese messages are put next to the fields with
:func:`webapp.web.apply_errors` (:func:`point_field` finds a point row's field).
Flask-WTF still checks the CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField, SelectField, StringField, TextAreaField

from webapp.auth.models import DEPARTMENTS
from webapp.catalog.labels import SUGGESTED_ORDER
from webapp.catalog.services import PointData
from webapp.registry.labels import DEPT, OBJECT_TYPE
from webapp.web import CheckboxesField, choices

# Stored values are the official Chinese terms; these labels let the English catalogue translate them.
CATEGORY_LABELS = {"一般检查事项": _l("一般检查事项"), "重点检查事项": _l("重点检查事项")}
METHOD_LABELS = {"现场检查": _l("现场检查"), "抽样送检": _l("抽样送检"), "书面检查": _l("书面检查")}


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
    target_types = CheckboxesField(_l("抽取的检查对象类型"), choices=choices(OBJECT_TYPE.items()))
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
            "target_types": self.target_types.data or [],
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


def point_field(form: ItemForm, rows: list[tuple[int, PointData]]) -> Callable[[str], Field | None]:
    """For :func:`webapp.web.apply_errors`: ``points.<k>.<field>`` (k-th non-empty row) → that row's field."""

    def resolve(key: str) -> Field | None:
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "points" or not parts[1].isdigit() or int(parts[1]) >= len(rows):
            return None
        return getattr(form.points[rows[int(parts[1])][0]].form, parts[2], None)

    return resolve


class CommonProblemForm(FlaskForm):
    """One problem of the common-problem library (常见问题库); the rules are in ``services._problem_values``."""

    text = TextAreaField(_l("问题描述"), render_kw={"rows": 2})
    legal_basis = StringField(_l("法律依据"))
    order_kind = SelectField(
        _l("建议的整改方式"), choices=choices(SUGGESTED_ORDER.items()), validate_choice=False, default="deadline"
    )
    deadline_days = StringField(_l("建议整改期限（工作日）"), default="10")

    def values(self) -> dict[str, Any]:
        return {
            "text": self.text.data,
            "legal_basis": self.legal_basis.data,
            "order_kind": self.order_kind.data,
            "deadline_days": self.deadline_days.data,
        }
