"""审计日志: who changed what, when and why, for the supervisor's organisation subtree (admin: all)."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from webapp.auth.permissions import supervisor_required
from webapp.registry.audit import queries
from webapp.registry.audit.labels import ACTION_PREFIXES
from webapp.registry.views import bp
from webapp.web import after_arg, render


@bp.route("/audit")
@supervisor_required
def audit_log():
    filters = queries.AuditFilters.from_args(request.args)
    after = after_arg()
    page = queries.list_events(current_user, filters, after=after, page_size=current_app.config.get("PAGE_SIZE", 50))
    # The chain check reads every event (O(n)): only on request.
    check = queries.verify_chain() if request.args.get("verify") == "1" else None
    return render(
        "registry/audit.html",
        block="results",
        filters=filters,
        page=page,
        after=after,
        check=check,
        prefixes=ACTION_PREFIXES,
        subject_title=queries.subject_title(current_user, filters),
    )
