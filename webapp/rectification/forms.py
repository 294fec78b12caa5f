"""Forms of the rectification pages. They render fields and carry CSRF; the rules live in ``services``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField

from webapp.rectification.labels import FOLLOW_UP, ORDER_KIND
from webapp.rectification.models import OrderKind
from webapp.web import choices


class ProblemForm(Form):
    text = TextAreaField(_l("存在问题"))
    basis = StringField(_l("法律依据"))


class IssueForm(FlaskForm):
    # a UUID made when the form is shown: posting it again (double tap, retry) gives the order it made
    client_key = HiddenField()
    kind = RadioField(
        _l("文书类型"),
        choices=choices(ORDER_KIND.items()),
        default=OrderKind.DEADLINE.value,
    )
    deadline_days = StringField(_l("整改期限（工作日）"), default="10")
    problems = FieldList(FormField(ProblemForm), min_entries=1)


class OutcomeForm(FlaskForm):
    follow_up = SelectField(
        _l("未改正的后续处理"),
        choices=choices([("", _l("请选择")), *FOLLOW_UP.items()]),
        validate_choice=False,
    )
    decision_number = StringField(_l("行政处罚决定书文号"))
    decision_date = StringField(_l("处罚决定日期"))
    referred_to = StringField(_l("移送部门"))
    note = TextAreaField(_l("复查情况说明"))


class NumberingForm(FlaskForm):
    abbr = StringField(_l("文书代字"))
    pattern_deadline = StringField(_l("责令限期改正通知书编号格式"))
    pattern_immediate = StringField(_l("责令立即改正编号格式"))
