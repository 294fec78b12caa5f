"""Home (routes each role to its start page), language switch and health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from webapp import calendar
from webapp.auth.models import Role
from webapp.auth.permissions import login_required, public
from webapp.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def home():
    """工作台: inspectors go to their tasks; supervisors and admins see the month at a glance."""
    if current_user.role == Role.INSPECTOR:
        return redirect(url_for("core.me"))

    from webapp.draw.labels import draw_globals
    from webapp.draw.services import next_draw_due
    from webapp.registry.units.services import quality_report
    from webapp.tasks.queries import month_task_counts
    from webapp.web import render

    today = calendar.today()
    quality, _per_org = quality_report(current_user)
    return render(
        "core/home.html",
        due=next_draw_due(current_user.org_id, today),
        counts=month_task_counts(current_user, today),
        quality=quality,
        **draw_globals(),
    )


@bp.route("/me")
@login_required
def me():
    """我的任务. Due 复查 tasks of the inspector's organisation are created first, so they show at once."""
    from webapp.draw.services import inspector_of
    from webapp.tasks.queries import ensure_reinspections, my_tasks
    from webapp.web import render

    inspector = inspector_of(current_user)
    today = calendar.today()
    if inspector is not None:
        try:
            ensure_reinspections(inspector.org_id, today)
        except Exception:  # the list must still show; the daily command is the backstop
            db.session.rollback()
            current_app.logger.exception("creating due re-inspection tasks failed")
    return render("core/me.html", inspector=inspector, tasks=my_tasks(inspector, today), today=today)


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.referrer or url_for("core.home")
    return redirect(target)


@bp.route("/healthz")
@public
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
