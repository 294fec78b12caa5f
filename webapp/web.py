"""Small helpers shared by every blueprint's views: page-or-fragment rendering, form errors."""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


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


def pdf_response(body: bytes, filename: str):
    """A PDF shown in the browser (inline), e.g. a notice or the check form."""
    resp = make_response(body)
    resp.headers["Content-Type"] = "application/pdf"
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp
