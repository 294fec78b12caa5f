"""Apply an exported outbox (read by :func:`webapp.offline.services.read_outbox`) entry by entry, each AS ITS
INSPECTOR through the same view and ledger a phone's sync goes through.

Every entry is a request of its own, in an application context of its own (its own session, ``g`` and
database session), so nothing of the supervisor's request leaks into it: the inspector is logged in for that
request only (``flask_login.login_user`` on the inner request's session, which is thrown away), and the
request carries a fresh CSRF token made in that session, so the ordinary CSRF check runs and passes. An entry
already synced by the phone is a replay (已存在), never a duplicate. The ledger row remembers who imported.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html import unescape

from flask import Flask, g
from flask_babel import gettext as _
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from webapp.auth.models import User
from webapp.extensions import db
from webapp.offline import labels
from webapp.offline.ledger import CLIENT_ID_HEADER, is_syncable
from webapp.offline.services import Outbox, OutboxEntry

_TAGS = re.compile(r"<[^>]+>")


@dataclass
class EntryResult:
    index: int
    client_id: str
    path: str
    outcome: str  # applied | existing | refused
    message: str

    @property
    def label(self) -> str:
        if self.outcome == "applied":
            return str(labels.IMPORT_APPLIED)
        if self.outcome == "existing":
            return str(labels.IMPORT_EXISTING)
        return f"{labels.IMPORT_REFUSED}：{self.message}"


def syncable_endpoint(app: Flask, path: str) -> str | None:
    """The endpoint a POST to ``path`` reaches, if it is a syncable view (else None)."""
    try:
        endpoint, _args = app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return None
    view = app.view_functions.get(endpoint)
    return endpoint if view is not None and is_syncable(view) else None


def _reason(body: str, status: int) -> str:
    text = " ".join(unescape(_TAGS.sub(" ", body)).split())
    return text[:300] or _("服务器拒绝（%(code)d）", code=status)


def apply_entry(app: Flask, base_url: str, inspector_id: int, importer_id: int, entry: OutboxEntry) -> EntryResult:
    def result(outcome: str, message: str = "") -> EntryResult:
        return EntryResult(entry.index, entry.client_id, entry.path, outcome, message)

    if entry.problem:
        return result("refused", entry.problem)
    if syncable_endpoint(app, entry.path) is None:
        return result("refused", _("该地址不是可同步的现场操作"))
    data: MultiDict = MultiDict(entry.fields)
    for f in entry.files:
        data.add(f.name, (io.BytesIO(f.data), f.filename, f.content_type))
    headers = {CLIENT_ID_HEADER: entry.client_id, "HX-Request": "true", "X-Offline-Queued": "1"}
    with (
        app.app_context(),
        app.test_request_context(entry.path, method="POST", base_url=base_url, data=data, headers=headers) as ctx,
    ):
        inspector = db.session.get(User, inspector_id)
        if inspector is None or not login_user(inspector):
            return result("refused", _("该检查人员的账号已停用"))
        g.sync_imported_by = importer_id
        ctx.request.environ["HTTP_X_CSRFTOKEN"] = generate_csrf()
        response = app.full_dispatch_request()
        status, body = response.status_code, response.get_data(as_text=True)
        replay = response.headers.get("X-Sync") == "replay"
    if status < 400:
        return result("existing" if replay else "applied")
    return result("refused", _reason(body, status))


def apply_outbox(app: Flask, base_url: str, importer: User, outbox: Outbox) -> list[EntryResult]:
    """Apply the entries in their order; a refused one does not stop the next."""
    return [apply_entry(app, base_url, outbox.user.id, importer.id, e) for e in outbox.entries]
