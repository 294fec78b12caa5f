"""The view toolkit every blueprint uses: page-or-fragment rendering, redirects after POST, the one family of
service errors and its handler, form errors next to their fields, checkbox lists, file responses.

Who commits: services change the session and never commit; the view (or CLI command, or background job) that
called them commits once, so a refused request leaves nothing behind (the error handler rolls back).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any
from urllib.parse import quote

from flask import Flask, Response, abort, make_response, redirect, render_template, request
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # types-wtforms 3.2 lacks it (WTForms 3.3)
from wtforms.widgets import CheckboxInput, ListWidget

FORM = "_form"  # the key of a message about the whole form rather than one field
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------------------------------- rendering


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(template: str, block: str | None = None, status: int = 200, **context: Any):
    """Full page on a normal request; only ``block`` on an htmx request (one URL, page or fragment)."""
    if block and is_htmx():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def after_post(url: str):
    """Redirect after a successful POST: a real 303, or ``HX-Redirect`` for htmx requests."""
    if is_htmx():
        resp = make_response("", 200)
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, code=303)


def after_arg() -> int | None:
    """The keyset-paging cursor ``?after=<id>`` of list pages, or None."""
    raw = request.args.get("after", "")
    return int(raw) if raw.isdigit() else None


# ------------------------------------------------------------------------------------------ service errors


class ServiceError(Exception):
    """A rule was broken. ``errors`` maps form field names (``FORM`` for the whole form) to Chinese messages.

    Raised by services, caught by views that re-render their form with :func:`apply_errors`; one that no
    view catches reaches :func:`register_error_handler`, which rolls back and answers ``status``.
    """

    status = 422
    retry_after: int | None = None  # seconds: sent as Retry-After (the same request may succeed later)

    def __init__(self, errors: Mapping[str, Any] | str, field: str | None = None) -> None:
        self.errors: dict[str, str] = (
            {field or FORM: str(errors)} if isinstance(errors, str) else {k: str(v) for k, v in errors.items()}
        )
        super().__init__("；".join(self.errors.values()))

    @property
    def message(self) -> str:
        return "；".join(self.errors.values())

    @property
    def field(self) -> str | None:
        """The field of a single-field error (None for a form-level one)."""
        keys = [k for k in self.errors if k != FORM]
        return keys[0] if len(keys) == 1 and len(self.errors) == 1 else None


class ConflictError(ServiceError):
    """The request does not fit the record's current state (submitted, changed meanwhile …): HTTP 409."""

    status = 409


def register_error_handler(app: Flask) -> None:
    """An uncaught ServiceError: roll back, then the message as a fragment (htmx) or the error page, 409/422."""
    from webapp.extensions import db

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        db.session.rollback()
        template = "_partials/service_error.html" if is_htmx() else "errors.html"
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        html = render_template(template, code=exc.status, title=exc.message, message=exc.message)
        return html, exc.status, headers


# ------------------------------------------------------------------------------------------------- forms


def apply_errors(
    form: FlaskForm, errors: Mapping[str, Any], resolve: Callable[[str], Any | None] | None = None
) -> None:
    """Show service errors next to their fields; ``FORM`` and unknown keys become form-level errors.

    ``resolve`` maps a key the form cannot find by name (e.g. ``points.3.text`` of a field list) to a field.
    A ``Markup`` message (e.g. with a link to the record that holds a unique value) is kept as markup.
    """
    for key, raw in errors.items():
        message = raw if isinstance(raw, Markup) else str(raw)
        field = None
        if key != FORM and key in form._fields:
            field = form[key]
        elif resolve is not None and key != FORM:
            field = resolve(key)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*list(field.errors or []), message]


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices; enum members become their stored text value."""
    return [SelectChoice(getattr(value, "value", value), label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (large touch targets on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


def submit_status(form: Any, change: Callable[[bool, str | None], object]) -> bool:
    """Apply a posted 停用/启用 form (``form.activate()``, ``form.reason``) with ``change(active, reason)`` and
    commit: True when done; on a refusal the messages are on the form (re-render it with 422), nothing kept."""
    from webapp.extensions import db

    if not form.validate_on_submit():
        return False
    active = form.activate()
    if active is None:
        abort(400)
    try:
        change(active, form.reason.data)
    except ServiceError as e:
        db.session.rollback()
        apply_errors(form, e.errors)
        return False
    db.session.commit()
    return True


# ---------------------------------------------------------------------------------------------- files


def attachment(name: str) -> str:
    """A Content-Disposition for a download named ``name`` (Chinese kept via RFC 5987, ASCII fallback)."""
    fallback = name.encode("ascii", "ignore").decode() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def xlsx_response(out: IO[bytes], name: str) -> Response:
    """Stream a spooled workbook in chunks; the temporary file is closed once sent (or abandoned)."""
    size = os.fstat(out.fileno()).st_size

    def chunks():
        try:
            while chunk := out.read(64 * 1024):
                yield chunk
        finally:
            out.close()

    resp = Response(chunks(), mimetype=XLSX_MIME, direct_passthrough=True)
    resp.headers["Content-Length"] = str(size)
    resp.headers["Content-Disposition"] = attachment(name)
    return resp


def csv_response(data: bytes, name: str) -> Response:
    resp = Response(data, mimetype="text/csv")
    resp.headers["Content-Disposition"] = attachment(name)
    return resp


def pdf_response(body: bytes, filename: str):
    """A PDF shown in the browser (inline), e.g. a notice or the check form."""
    resp = make_response(body)
    resp.headers["Content-Type"] = "application/pdf"
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp
