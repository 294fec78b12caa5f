"""Forms of the on-site pages. Rules live in services; forms parse, keep what was typed and show errors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from webapp.inspections.models import CheckResult, PublishedCategory
from webapp.inspections.services import CATEGORY_LABELS, RESULT_LABELS


class FindingForm(FlaskForm):
    text = TextAreaField(_l("发现的问题"))
    legal_basis = StringField(_l("法律依据"))
    point_id = HiddenField()


class ResultForm(FlaskForm):
    client_uuid = HiddenField()
    result = SelectField(_l("检查结果"), choices=[], validate_choice=False)
    category = SelectField(_l("公示结果类别"), choices=[], validate_choice=False)
    remarks = TextAreaField(_l("备注"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.result.choices = [("", _l("请选择"))] + [(r.value, RESULT_LABELS[r]()) for r in CheckResult]
        self.category.choices = [("", _l("请选择"))] + [(c.value, CATEGORY_LABELS[c]()) for c in PublishedCategory]


class SupplementForm(FlaskForm):
    client_uuid = HiddenField()
    reason = TextAreaField(_l("补充更正的原因"))


def apply_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Put service errors next to their fields; the rest go to ``form.form_errors``."""
    for key, msg in errors.items():
        f = getattr(form, key, None)
        if f is not None and hasattr(f, "errors") and key != "_":
            f.errors = [*list(f.errors or []), msg]
        else:
            form.form_errors.append(msg)
