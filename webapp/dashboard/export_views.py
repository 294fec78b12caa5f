"""/dashboard/export/<kind>.xlsx: the dashboard's exports (logic in webapp.dashboard.exports)."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from webapp.auth.permissions import supervisor_required
from webapp.dashboard import exports
from webapp.dashboard.views import bp
from webapp.registry.import_views import _xlsx


def _send(kind: str):
    out, _count, name = exports.export(kind, current_user, request.args)
    return _xlsx(out, name)


@bp.route("/export/tasks.xlsx")
@supervisor_required
def export_tasks():
    return _send("tasks")


@bp.route("/export/results.xlsx")
@supervisor_required
def export_results():
    return _send("results")


@bp.route("/export/rectifications.xlsx")
@supervisor_required
def export_rectifications():
    return _send("rectifications")
