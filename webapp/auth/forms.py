"""Login, password and the 停用/启用 form with the one way to submit it."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.extensions import db
from webapp.web import ServiceError, apply_errors


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码"))])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码"))])
    new = PasswordField(
        _l("新密码"),
        validators=[DataRequired(_l("请输入新密码")), Length(min=10, message=_l("新密码至少10位"))],
    )
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("new", message=_l("两次输入的新密码不一致"))])


class StatusForm(FlaskForm):
    """Deactivate or reactivate something (a user, an organisation, an item), always with a reason."""

    action = HiddenField()
    reason = TextAreaField(_l("原因"), render_kw={"rows": 2})

    def activate(self) -> bool | None:
        """True to reactivate, False to deactivate, None for anything else (the view answers 400)."""
        return {"reactivate": True, "deactivate": False}.get(self.action.data or "")


def submit_status(form: StatusForm, change: Callable[[bool, str | None], object]) -> bool:
    """Apply a posted StatusForm with ``change(active, reason)`` and commit: True when done; on a refusal the
    messages are on the form (the caller re-renders it with 422) and nothing is kept."""
    if not form.validate_on_submit():
        return False
    active = form.activate()
    if active is None:
        abort(400)
    try:
        change(active, form.reason.data)
    except ServiceError as e:
        db.session.rollback()
        apply_errors(form, e.errors)
        return False
    db.session.commit()
    return True
