"""Login, password and the 停用/启用 form (submitted through webapp.web.submit_status)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length


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
