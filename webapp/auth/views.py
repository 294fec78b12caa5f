from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from webapp import audit
from webapp.auth import services
from webapp.auth.forms import LoginForm, PasswordChangeForm
from webapp.auth.permissions import login_required, public
from webapp.extensions import db, limiter
from webapp.web import render

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _account_key() -> str:
    """The rate-limit key of the account a login attempt names (case and spaces as ``authenticate`` ignores)."""
    return "account:" + (request.form.get("username") or "").strip().lower()[:50]


def _failed(response) -> bool:
    """A login attempt counts against the failure limits unless it logged in (302) or was refused (429)."""
    return response.status_code not in (302, 429)


# Three limits, counted in the shared rate-limit storage (Redis in production): wrong passwords per account from
# any address (brute force), wrong passwords per address (spraying over many accounts), and every attempt per
# address - generous, so a brigade behind one NAT logs in together; successful logins count only there.
@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_account_key,
    methods=["POST"],
    scope="login-account",
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_IP_FAILURE_LIMIT"],
    key_func=get_remote_address,
    methods=["POST"],
    scope="login-address-failures",
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_IP_RATE_LIMIT"],
    key_func=get_remote_address,
    methods=["POST"],
    scope="login-address",
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            session["sid"] = services.start_session(user)
            session.permanent = True  # survives closing the browser, for PERMANENT_SESSION_LIFETIME
            login_user(user)
            audit.record(user, "user.login", user, {"ip": request.remote_addr}, org_id=user.org_id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
        error = _("用户名或密码错误")
    return render("auth/login.html", form=form, error=error, status=200 if error is None else 422)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session on the server too: a copy of the cookie no longer works (the user's other devices do)."""
    services.end_session(session.get("sid"))
    audit.record(current_user, "user.logout", current_user, {}, org_id=current_user.org_id)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if services.change_password(current_user, form.current.data, form.new.data):
            db.session.commit()
            logout_user()
            flash(_("密码已修改，请用新密码重新登录。"), "success")
            return redirect(url_for("auth.login"))
        form.current.errors.append(_("当前密码不正确"))
    status = 422 if form.errors else 200
    return render("auth/password.html", form=form, status=status)
