"""SuiJian 随检: the application factory."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from flask import Flask, g, render_template, request, session
from flask_babel import format_datetime, get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import StrictUndefined
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp import config as config_module
from webapp.db import include_in_autogenerate
from webapp.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.environ.get("SUIJIAN_INSTANCE", os.path.join(ROOT, "instance")),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(config_module.from_env(app.instance_path))
    if config:
        app.config.update(config)
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx: the client address (login rate limit, audit) and https come from the proxy's headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_request_guards(app)
    from webapp.web import register_error_handler

    register_error_handler(app)
    _wire_events()
    _init_queue(app)

    from webapp.cli import register_cli

    register_cli(app)

    from webapp.auth.permissions import check_all_guarded

    check_all_guarded(app)
    return app


def _select_locale() -> str:
    from flask import current_app, has_request_context

    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # No server-side prepared statements: psycopg would prepare a statement after 5 runs on a pooled
        # connection, and PostgreSQL may then keep a generic plan made while a table was small (seen: an
        # import's USCC lookup planned on an empty table took seconds a chunk on the next import). Planning
        # each statement afresh costs little here and keeps every plan fitted to the current data.
        # No JIT either: the dashboard's grouped queries at a million rows cross jit_above_cost, and compiling
        # them took 300-400 ms of a 500 ms query (measured with EXPLAIN ANALYZE; benchmarks/dashboard.py).
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options["connect_args"] = {
            **options.get("connect_args", {}),
            "prepare_threshold": None,
            "options": "-c jit=off",
        }
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(ROOT, "migrations"),
        render_as_batch=True,
        include_name=include_in_autogenerate,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    # Import every model module so metadata is complete for Alembic and the app.
    import webapp.models  # noqa: F401
    from webapp.auth import services as auth_services
    from webapp.auth.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            uid, version = (int(x) for x in user_id.split(":"))
        except ValueError:
            return None
        user = db.session.get(User, uid)
        if user is None or user.auth_version != version or not user.active:
            return None
        if not auth_services.session_is_live(uid, session.get("sid")):  # ended by logout (or never recorded)
            return None
        return user


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: WAL for concurrent readers, foreign keys enforced, wait instead of failing when busy."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _init_queue(app: Flask) -> None:
    """The job queue (webapp/queue.py) and its tasks (webapp/worker.py), in web and worker processes alike."""
    from webapp import (
        queue,
        worker,  # noqa: F401  (defines the tasks)
    )

    queue.init_app(app)


def _wire_events() -> None:
    """Connect the domain signals (webapp/events.py) to their receivers: the one place where they are wired.

    A submitted record gets its publication deadline (publication) and makes the organisation's due 复查 tasks
    (rectification); a recorded penalty gets its publication deadline; a check-in gets the inspection's public
    code (扫码亮证, trace). Connecting again is a no-op.
    """
    from webapp import events
    from webapp.publication import services as publication
    from webapp.rectification import services as rectification
    from webapp.trace import services as trace

    events.inspection_started.connect(trace.on_inspection_started, weak=False)
    events.result_submitted.connect(publication.on_result_submitted, weak=False)
    events.result_submitted.connect(rectification.on_result_submitted, weak=False)
    events.penalty_recorded.connect(publication.on_penalty_recorded, weak=False)


def _register_blueprints(app: Flask) -> None:
    from webapp.admin.views import bp as admin_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.catalog.views import bp as catalog_bp
    from webapp.draw.views import bp as draw_bp
    from webapp.home.views import bp as core_bp
    from webapp.inspections.views import bp as inspections_bp
    from webapp.public.views import bp as public_bp
    from webapp.registry.views import bp as registry_bp

    for bp in (core_bp, auth_bp, registry_bp, catalog_bp, admin_bp, draw_bp, public_bp, inspections_bp):
        app.register_blueprint(bp)
    from webapp.rectification.views import bp as notices_bp

    app.register_blueprint(notices_bp)
    from webapp.dashboard.views import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)
    from webapp.publication.views import bp as publication_bp

    app.register_blueprint(publication_bp)
    from webapp.offline.views import bp as offline_bp

    app.register_blueprint(offline_bp)
    from webapp.trace.views import bp as trace_bp

    app.register_blueprint(trace_bp)


def _asset_url(app: Flask):
    """``asset_url('css/app.css')``: the static URL with a content hash, so phones never keep a stale file."""
    import hashlib
    from functools import cache

    from flask import url_for

    @cache
    def digest(filename: str) -> str:
        with open(os.path.join(app.static_folder, filename), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:10]

    def asset_url(filename: str) -> str:
        if app.debug:  # the file may change while the development server runs
            digest.cache_clear()
        return url_for("static", filename=filename, v=digest(filename))

    return asset_url


# Scripts and styles only from our own files (no inline <script>, on…= handler, <style> or style= attribute; htmx
# without eval and without its indicator <style>, see base.html's htmx-config); images may be data:/blob: URLs
# (photo previews, the signature pad); no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _register_request_guards(app: Flask) -> None:
    """Checks that run before anything else reads the request (CSRF, the rate limiter's keys, the views).

    * Anonymous requests (login, the public site) may carry a small body only: refused with 413 by its
      Content-Length before it is read, and the form parser is held to the same size for bodies without one.
    * A NUL byte in the path, the query or a form field is refused with 400 and a Chinese message: PostgreSQL
      cannot store or compare it, and the database error would reach the log with its statement.
    """
    from flask import abort
    from flask_babel import gettext as _

    def cap_anonymous_body():
        if current_user.is_authenticated:
            return None
        cap = app.config["ANONYMOUS_MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > cap:
            abort(413)
        request.max_content_length = cap
        request.max_form_memory_size = cap
        return None

    def refuse_nul():
        bad = "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True))
        if not bad and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            bad = any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True))
        if bad:
            g.error_code = 400
            message = _("请求中含有无效字符（如空字符），请删除后重试。")
            return render_template("errors.html", code=400, title=_("请求有误"), message=message), 400
        return None

    # first in line: Flask-WTF's CSRF check and Flask-Limiter's key functions read the form before any later hook
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs[0:0] = [cap_anonymous_body, refuse_nul]


def _register_hooks(app: Flask) -> None:
    from webapp import calendar
    from webapp.auth import access
    from webapp.draw.pool import template_globals as pool_globals
    from webapp.inspections.checkin import template_globals as checkin_globals
    from webapp.registry.labels import jinja_globals

    # pool_globals: the registry's inspector page shows the draw's pool rule (the registry sits below the draw)
    app.jinja_env.globals.update(
        {**jinja_globals(), **access.jinja_globals(), **pool_globals(), **checkin_globals()},
        asset_url=_asset_url(app),
    )

    @app.template_filter("local")
    def local_time(value: dt.datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
        if value is None:
            return ""
        return format_datetime(value, fmt)

    def sw_version() -> str:
        """The worker's version (static files + sw.js): base.html registers /sw.js?v=…, so a deploy updates phones."""
        from webapp.offline.queries import assets_version

        if app.debug or "suijian.sw_version" not in app.extensions:
            app.extensions["suijian.sw_version"] = assets_version(app.jinja_env.globals["asset_url"])
        return app.extensions["suijian.sw_version"]

    @app.context_processor
    def inject() -> dict[str, Any]:
        locale = str(get_locale() or "zh_Hans")
        return {
            "sw_version": sw_version() if current_user.is_authenticated else "",
            "current_user": current_user,
            "today": calendar.today(),
            "html_lang": "zh-Hans" if locale == "zh_Hans" else locale,
        }

    @app.after_request
    def headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Vary", "HX-Request")
        if "HX-Request" not in response.headers.get("Vary", ""):
            response.headers["Vary"] += ", HX-Request"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint == "static":
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        elif current_user.is_authenticated:
            # never in a shared cache; the phone keeps its pack in Cache Storage (static/sw.js), not the HTTP cache
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    def error_page(code: int, title: str, message: str):
        def handler(e):
            g.error_code = code
            return render_template("errors.html", code=code, title=title, message=message), code

        return handler

    from flask_babel import lazy_gettext as _l

    from webapp.offline.views import session_expired

    def unauthorized(e):
        if request.headers.get("X-Client-Id"):  # a queued change from the phone: it keeps it and asks to log in
            return session_expired()
        return error_page(401, _l("请先登录"), _l("登录已过期，请重新登录。"))(e)

    csrf_failed = error_page(400, _l("页面已过期"), _l("表单已过期，请刷新页面后重新提交。"))

    def csrf_error(e):
        if request.headers.get("X-Client-Id") and not current_user.is_authenticated:
            return session_expired()  # the session is gone with its token: logging in again is what helps
        return csrf_failed(e)

    app.register_error_handler(400, error_page(400, _l("请求有误"), _l("请求无法处理，请返回重试。")))
    app.register_error_handler(401, unauthorized)
    app.register_error_handler(403, error_page(403, _l("无权访问"), _l("您的账号没有权限执行此操作。")))
    app.register_error_handler(404, error_page(404, _l("页面不存在"), _l("找不到该页面或记录。")))
    app.register_error_handler(413, error_page(413, _l("文件太大"), _l("上传的文件超过了大小限制。")))
    app.register_error_handler(429, error_page(429, _l("操作过于频繁"), _l("尝试次数过多，请稍后再试。")))
    app.register_error_handler(CSRFError, csrf_error)
