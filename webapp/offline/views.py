"""The offline package's pages: the session and the day's pack for the phone's worker, device reports, the
device page, the offline shell, the worker and manifest at the site root, and the supervisors' outbox import."""

from __future__ import annotations

import os

from flask import Blueprint, abort, current_app, jsonify, request, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp import calendar
from webapp.auth import access
from webapp.auth.permissions import inspector_required, login_required, public, supervisor_required
from webapp.db import utcnow
from webapp.extensions import db
from webapp.offline import importer, queries, services
from webapp.offline.forms import ImportForm
from webapp.web import ServiceError, apply_errors, render

bp = Blueprint("offline", __name__)


def session_expired():
    """401 for a queued change whose session is gone: the phone keeps it and shows this with a login link."""
    resp = jsonify(message=_("登录已过期，请重新登录后同步。"))
    resp.status_code = 401
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _no_store(resp):
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/offline/session")
@public
def session_info():
    """Who the phone is logged in as, and a fresh CSRF token for the queued changes it sends."""
    user = current_user if current_user.is_authenticated else None
    resp = jsonify(
        user_id=user.id if user else None,
        name=user.display_name if user else None,
        csrf_token=generate_csrf(),
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _asset_url():
    return current_app.jinja_env.globals["asset_url"]


@bp.route("/offline/pack.json")
@inspector_required
def pack():
    """The pages and static files the phone keeps for the coming days (fetched with ``X-SuiJian-Pack: 1``)."""
    tasks = queries.pack_tasks(access.inspector_of(current_user), calendar.today())
    return _no_store(
        jsonify(
            user_id=current_user.id,
            generated_at=utcnow().isoformat().replace("+00:00", "Z"),
            pages=queries.pack_pages(tasks),
            assets=queries.pack_assets(_asset_url()),
        )
    )


@bp.route("/offline/status", methods=["POST"])
@login_required
def status():
    """A device reports its outbox (waiting and refused changes, last sync, storage): 204."""
    try:
        services.save_device_report(current_user, request.get_json(silent=True))
    except ServiceError as exc:
        db.session.rollback()
        return jsonify(message=exc.message), 422
    db.session.commit()
    return "", 204


@bp.route("/offline/device")
@login_required
def device():
    """本机数据: storage, persistence and the queue of this phone (filled in by static/js/offline.js)."""
    return render("offline/device.html")


@bp.route("/offline/shell")
@public
def shell():
    """Shown by the worker for a page that is not kept on the phone."""
    return render("offline/shell.html")


def _root_file(name: str, mimetype: str):
    folder = current_app.static_folder or ""
    if not os.path.exists(os.path.join(folder, name)):
        abort(404)
    return send_from_directory(folder, name, mimetype=mimetype, max_age=0)


@bp.route("/sw.js")
@public
def service_worker():
    """The service worker at the root, so its scope is the whole site; revalidated on every update check."""
    resp = _root_file("sw.js", "text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Assets-Version"] = queries.assets_version(_asset_url())
    return resp


@bp.route("/manifest.webmanifest")
@public
def manifest():
    resp = _root_file("manifest.webmanifest", "application/manifest+json")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/offline/import", methods=["GET", "POST"])
@supervisor_required
def import_outbox():
    """导入未同步数据: a supervisor applies an inspector's exported outbox, entry by entry, as that inspector."""
    if not access.can_supervise_cases(current_user):
        abort(403)
    form = ImportForm()
    results = None
    inspector = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            outbox = services.read_outbox(current_user, upload.read())
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
            return render("offline/import.html", status=422, form=form, results=None, inspector=None)
        inspector = outbox.user
        results = importer.apply_outbox(current_app._get_current_object(), request.host_url, current_user, outbox)
        counts = {k: sum(1 for r in results if r.outcome == k) for k in ("applied", "existing", "refused")}
        services.record_import(current_user, inspector, counts, upload.filename or "")
        db.session.commit()
    elif request.method == "POST":
        return render("offline/import.html", status=422, form=form, results=None, inspector=None)
    return render("offline/import.html", form=form, results=results, inspector=inspector)
