"""The public forms behind the code (rating, report) and their cookie-free CSRF protection.

The code's page sets no cookie, so Flask-WTF's session-bound token cannot be used. Instead each form carries a
token signed with the application's secret, bound to the code and valid for ``MAX_AGE``; a post without a valid
one, or one a browser marks as coming from another site (``Sec-Fetch-Site``/``Origin``), is refused exactly like
a CSRF failure elsewhere (400, 表单已过期).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import HiddenField, RadioField, StringField, TextAreaField

from webapp.trace.labels import SCORE_LABELS, VISIT_LABELS
from webapp.trace.services import MAX_COMMENT, MAX_CONTACT, MAX_REPORT
from webapp.web import choices

FIELD = "form_token"
MAX_AGE = 6 * 3600  # seconds: a page left open on the phone through the inspection still posts
_SALT = "suijian.trace.public-form"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_SALT)


def form_token(code: str) -> str:
    """A token for a form on the page of code ``code``."""
    return _serializer().dumps(code)


def check_form_token(code: str) -> None:
    """Raise CSRFError unless the posted form carries a fresh token of this code and came from this site."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise CSRFError("cross-site form")
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise CSRFError("foreign origin")
    try:
        signed = _serializer().loads(request.form.get(FIELD, ""), max_age=MAX_AGE)
    except BadData:
        raise CSRFError("missing or expired form token") from None
    if not isinstance(signed, str) or not hmac.compare_digest(signed, code):
        raise CSRFError("form token of another code")


class _PublicForm(FlaskForm):
    class Meta:
        csrf = False  # see check_form_token

    form_token = HiddenField()


class RatingForm(_PublicForm):
    visit = RadioField(
        _l("检查人员是否到本单位进行了检查"),
        choices=choices(VISIT_LABELS.items()),
        validate_choice=False,
    )
    score = RadioField(
        _l("满意度"), choices=choices((str(k), v) for k, v in SCORE_LABELS.items()), validate_choice=False
    )
    comment = TextAreaField(_l("意见建议（选填）"), render_kw={"maxlength": MAX_COMMENT, "rows": 3})


class ReportForm(_PublicForm):
    text = TextAreaField(_l("反映的问题"), render_kw={"maxlength": MAX_REPORT, "rows": 4})
    contact = StringField(_l("联系方式（选填，便于核实）"), render_kw={"maxlength": MAX_CONTACT})
