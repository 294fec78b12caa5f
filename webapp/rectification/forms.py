"""Forms of the notices pages. They render fields and carry CSRF; the rules live in ``services``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from webapp.rectification.models import FollowUpKind, OrderKind

KIND_LABELS = {OrderKind.DEADLINE: _l("责令限期改正"), OrderKind.IMMEDIATE: _l("责令立即改正")}
FOLLOW_UP_LABELS = {
    FollowUpKind.PENALTY: _l("行政处罚"),
    FollowUpKind.REFERRAL: _l("移送其他部门"),
    FollowUpKind.PENDING: _l("待后续处理"),
}


class _ServiceErrors:
    def add_error(self, field: str | None, message: str) -> None:
        if field and field in self._fields:
            self[field].errors = [*self[field].errors, message]
        else:
            self.form_errors.append(message)


class ProblemForm(Form):
    text = TextAreaField(_l("存在问题"))
    basis = StringField(_l("法律依据"))


class IssueForm(_ServiceErrors, FlaskForm):
    kind = RadioField(
        _l("文书类型"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        default=OrderKind.DEADLINE.value,
    )
    deadline_days = StringField(_l("整改期限（工作日）"), default="10")
    problems = FieldList(FormField(ProblemForm), min_entries=1)


class OutcomeForm(_ServiceErrors, FlaskForm):
    follow_up = SelectField(
        _l("未改正的后续处理"),
        choices=[SelectChoice("", _l("请选择"))]
        + [SelectChoice(k.value, label) for k, label in FOLLOW_UP_LABELS.items()],
        validate_choice=False,
    )
    decision_number = StringField(_l("行政处罚决定书文号"))
    decision_date = StringField(_l("处罚决定日期"))
    referred_to = StringField(_l("移送部门"))
    note = TextAreaField(_l("复查情况说明"))


class NumberingForm(_ServiceErrors, FlaskForm):
    abbr = StringField(_l("文书代字"))
    pattern_deadline = StringField(_l("责令限期改正通知书编号格式"))
    pattern_immediate = StringField(_l("责令立即改正编号格式"))
