"""Forms of the on-site pages. Rules live in services; forms parse, keep what was typed and show errors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from webapp.inspections.labels import CATEGORY_LABELS, RESULT_LABELS
from webapp.web import choices


class FindingForm(FlaskForm):
    text = TextAreaField(_l("发现的问题"))
    legal_basis = StringField(_l("法律依据"))
    point_id = HiddenField()
    common_problem = HiddenField()  # the common problem picked (常见问题库), linked to the finding


class FindingEditForm(FlaskForm):
    """Change a finding until the record is submitted (its ids and photos stay)."""

    text = TextAreaField(_l("发现的问题"))
    legal_basis = TextAreaField(_l("法律依据"))


class ResultForm(FlaskForm):
    client_uuid = HiddenField()
    result = SelectField(
        _l("检查结果"), choices=choices([("", _l("请选择")), *RESULT_LABELS.items()]), validate_choice=False
    )
    category = SelectField(
        _l("公示结果类别"), choices=choices([("", _l("请选择")), *CATEGORY_LABELS.items()]), validate_choice=False
    )
    remarks = TextAreaField(_l("备注"))


class SupplementForm(FlaskForm):
    client_uuid = HiddenField()
    reason = TextAreaField(_l("补充更正的原因"))
