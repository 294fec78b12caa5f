"""The sync ledger: a change a phone queued is applied once, however often the phone sends it.

:func:`syncable` goes on every on-site POST view. A request without ``X-Client-Id`` passes through untouched
(forms without JavaScript work as before). With one, keyed by (user, client id):

* the id is new: the view runs. The ledger row joins the view's own commit (a ``before_commit`` listener adds
  the row the decorator left on ``flask.g``), so the change and its receipt are stored together or not at all.
  After the view returned, its answer (status, body up to 64 KB, the HX-*/X-Content-SHA256 headers) is stored
  on the row. An answer >= 400 keeps no row (the view rolled back): a corrected retry with the same id applies.
* the id is known with the same content (digest): the stored answer again, with ``X-Sync: replay``; the view
  does not run, so nothing is applied or audited twice. A row whose answer was never stored (the process
  stopped between the two commits) replays as 200 with ``HX-Reswap: none``.
* the id is known with other content: 409, naming the fields that differ in Chinese.
* two requests with one id at once: the unique key lets one commit; the other replays its answer, or gets
  409 正在处理 while the first one's answer is not stored yet.

The digest covers the form fields except the CSRF token, sorted, and each uploaded file's field name with the
SHA-256 of its bytes (the stream is read and rewound, so the view reads it again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, has_app_context, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.db import utcnow
from webapp.extensions import db
from webapp.offline.labels import field_label
from webapp.offline.models import CLIENT_ID_LENGTH, SyncLedger
from webapp.web import ConflictError, ServiceError

SYNCABLE_ATTR = "_suijian_syncable"
CLIENT_ID_HEADER = "X-Client-Id"
BODY_CAP = 64 * 1024
KEPT_HEADERS = ("Content-Type", "Location", "X-Content-SHA256")  # and every HX-* header
IN_PROGRESS_SECONDS = 120  # a row without an answer younger than this: the first request is still running
_CLIENT_ID = re.compile(rf"^[0-9A-Za-z-]{{1,{CLIENT_ID_LENGTH}}}$")
_PENDING = "_sync_pending"  # the row the next commit adds (flask.g)
_ADDED = "_sync_added"  # the row a commit added


class InProgress(ConflictError):
    """The first request with this id is still running: the phone asks again a little later."""

    retry_after = 5


def is_syncable(view: Callable) -> bool:
    return bool(getattr(view, SYNCABLE_ATTR, False))


def syncable(view: Callable) -> Callable:
    """Make a POST view idempotent for requests carrying ``X-Client-Id`` (see the module's docstring)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        client_id = request.headers.get(CLIENT_ID_HEADER)
        if not client_id or request.method != "POST" or not current_user.is_authenticated:
            return view(*args, **kwargs)  # the guard inside answers anonymous requests
        if not _CLIENT_ID.match(client_id):
            raise ServiceError(_("同步编号无效，请刷新页面后重新操作。"))
        digest, fields = request_content()
        existing = _find(current_user.id, client_id)
        if existing is not None:
            return _answer_known(existing, digest, fields)
        row = SyncLedger(
            user_id=current_user.id,
            client_id=client_id,
            endpoint=request.endpoint or "",
            path=request.path[:500],
            digest=digest,
            fields=fields,
            queued=request.headers.get("X-Offline-Queued") == "1",
            imported_by_id=g.get("sync_imported_by"),
        )
        setattr(g, _PENDING, row)
        try:
            response = make_response(view(*args, **kwargs))
        except IntegrityError:
            db.session.rollback()
            other = _find(current_user.id, client_id)
            if other is None:
                raise
            return _answer_known(other, digest, fields)  # a concurrent request with this id committed first
        finally:
            g.pop(_PENDING, None)
            added = g.pop(_ADDED, None)
        if added is not None and inspect(added).persistent:
            _store_answer(added, response)  # the change is committed: keep its answer, whatever it was
        elif response.status_code < 400:
            db.session.rollback()  # nothing was committed by the view; keep the receipt of its answer
            _store_answer(row, response, add=True)
        return response

    setattr(wrapper, SYNCABLE_ATTR, True)
    return wrapper


@event.listens_for(Session, "before_commit")
def _add_pending_row(session: Session) -> None:
    """The view commits its change: its ledger row goes into the same transaction."""
    if not has_app_context() or session is not db.session():
        return
    row = g.pop(_PENDING, None)
    if row is not None:
        session.add(row)
        setattr(g, _ADDED, row)


def _find(user_id: int, client_id: str) -> SyncLedger | None:
    return db.session.execute(
        select(SyncLedger).where(SyncLedger.user_id == user_id, SyncLedger.client_id == client_id)
    ).scalar_one_or_none()


def _store_answer(row: SyncLedger, response: Response, add: bool = False) -> None:
    body = None
    if not response.is_streamed and not response.direct_passthrough:
        data = response.get_data()
        if len(data) <= BODY_CAP:
            body = data.decode("utf-8", errors="replace")
    row.status = response.status_code
    row.body = body
    row.headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS or k.lower().startswith("hx-")}
    row.answered_at = utcnow()
    if add:
        db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request with this id stored its receipt first: that one stands
        db.session.rollback()


def _answer_known(row: SyncLedger, digest: str, fields: dict) -> Response:
    if row.path != request.path[:500]:
        raise ConflictError(_("这项修改的编号已用于另一项修改，未重复处理。"))
    if row.digest != digest:
        raise ConflictError(difference_message(row.fields, fields))
    if row.status is None:
        age = utcnow() - row.created_at
        if age < dt.timedelta(seconds=IN_PROGRESS_SECONDS):
            raise InProgress(_("这项修改正在处理，请稍后再同步。"))
        response = Response("", 200)
        response.headers["HX-Reswap"] = "none"
    else:
        headers = dict(row.headers or {})
        body = row.body
        if body is None:  # too large to keep: the client keeps what it shows
            body = ""
            headers["HX-Reswap"] = "none"
        response = Response(body, row.status, headers=headers)
    response.headers["X-Sync"] = "replay"
    return response


# ------------------------------------------------------------------------------------------- content


def request_content() -> tuple[str, dict]:
    """The digest of this request's content and the content itself (kept for the difference message)."""
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    form = sorted([k, v] for k, v in request.form.items(multi=True) if k != csrf_field)
    files = []
    for name, upload in request.files.items(multi=True):
        sha = hashlib.sha256()
        stream = upload.stream
        while chunk := stream.read(65536):
            sha.update(chunk)
        stream.seek(0)
        files.append([name, sha.hexdigest()])
    fields = {"form": form, "files": sorted(files)}
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest(), fields


def _grouped(pairs: list[list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _shown(values: list[str] | None, limit: int = 40) -> str:
    text = "、".join(values or [])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def difference_message(old: dict, new: dict) -> str:
    """ "这项修改的编号已用于另一内容：备注 原为“…”，现为“…”" with the fields that differ, in Chinese."""
    parts = []
    old_form, new_form = _grouped(old.get("form", [])), _grouped(new.get("form", []))
    for name in sorted(set(old_form) | set(new_form)):
        if old_form.get(name) != new_form.get(name):
            parts.append(
                _(
                    "%(field)s 原为“%(old)s”，现为“%(new)s”",
                    field=field_label(name),
                    old=_shown(old_form.get(name)),
                    new=_shown(new_form.get(name)),
                )
            )
    old_files, new_files = _grouped(old.get("files", [])), _grouped(new.get("files", []))
    for name in sorted(set(old_files) | set(new_files)):
        if old_files.get(name) != new_files.get(name):
            parts.append(_("%(field)s 为另一文件", field=field_label(name)))
    if not parts:
        return _("这项修改的编号已用于另一内容。")
    return _("这项修改的编号已用于另一内容：%(diff)s", diff="；".join(parts))
