"""工作台 (routes each role to its start page), 我的任务, language switch and health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from webapp import calendar
from webapp.auth import access
from webapp.auth.permissions import login_required, public
from webapp.draw.labels import draw_globals
from webapp.draw.services import next_draw_due
from webapp.extensions import db
from webapp.home.queries import my_tasks
from webapp.offline.queries import device_overview
from webapp.registry.units.queries import quality_report
from webapp.tasks.queries import month_task_counts
from webapp.web import render

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def home():
    """工作台: inspectors go to their tasks; supervisors and admins see the month at a glance."""
    if access.has_task_list(current_user):
        return redirect(url_for("core.me"))
    today = calendar.today()
    quality, _per_org = quality_report(current_user)
    devices, unreported = device_overview(current_user) if access.can_supervise_cases(current_user) else ([], 0)
    return render(
        "core/home.html",
        devices=devices,
        unreported=unreported,
        due=next_draw_due(current_user.org_id, today),
        counts=month_task_counts(current_user, today),
        quality=quality,
        unknown_calendar_year=calendar.upcoming_unknown_year(today),
        **draw_globals(),
    )


@bp.route("/me")
@login_required
def me():
    """我的任务. Reads only: due 复查 tasks are made by the submit paths and the daily command."""
    inspector = access.inspector_of(current_user)
    today = calendar.today()
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
