"""一公开: the public site, no login, rooted at /public/.

Every page is open to everyone (``@public``), sets no session cookie (the public templates never touch
the session or the CSRF token), and is cacheable: an ETag and Last-Modified on every response, 304 on
a matching If-None-Match / If-Modified-Since, ``Cache-Control: public`` with a short max-age for anonymous
visitors. Unpublished draws answer 404 exactly like draws that do not exist. Personal names, phone
numbers and ID numbers reach the templates only masked (``webapp.public.queries`` / ``masking``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.http import is_resource_modified

from webapp import audit
from webapp.auth.permissions import public
from webapp.draw.labels import draw_globals
from webapp.extensions import limiter
from webapp.public import catalog, queries, results
from webapp.public import feed as atom
from webapp.public.example import worked_example
from webapp.rectification.services import find_for_check
from webapp.web import render

bp = Blueprint("public", __name__, url_prefix="/public")

MAX_AGE = 300  # seconds: a newly published draw shows up within five minutes
VERIFY_PY = Path(__file__).resolve().parent.parent / "draw" / "engine.py"  # stdlib only: it is the verifier
_HERE = Path(__file__).resolve().parent
_TEMPLATES = _HERE.parent.parent / "templates" / "public"


def _code_version() -> str:
    """Changes when the public templates or this package change, so a deploy invalidates old ETags."""
    h = hashlib.sha256()
    files = [*_TEMPLATES.glob("*.html"), *_HERE.glob("*.py"), _HERE.parent / "draw" / "labels.py"]
    for path in sorted(files):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


CODE_VERSION = _code_version()
STARTED = dt.datetime.now(dt.UTC).replace(microsecond=0)


@bp.context_processor
def _labels() -> dict:
    return draw_globals()


# ------------------------------------------------------------------------------------------- caching


def _cache_control(resp: Response, fresh: bool = False) -> Response:
    """``fresh``: revalidated on every visit (the register changes at each ceremony step, and a citizen checking
    a head on the spot must not see a copy minutes old)."""
    if current_user.is_authenticated or session:  # their cookie may refresh, or choose the language
        resp.headers["Cache-Control"] = "private, no-cache"
    elif fresh:
        resp.headers["Cache-Control"] = "public, no-cache"
    else:
        resp.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return resp


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return STARTED
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.replace(microsecond=0)


def conditional(
    version: str, last_modified: dt.datetime | None, build: Callable[[], Response | tuple], fresh: bool = False
) -> Response:
    """Answer 304 when the client's copy is current, else build the response; both carry the validators.

    ``version`` identifies the data shown; the ETag also covers the code and the locale, so a deploy or a
    language change never serves a stale page.
    """
    etag = queries.etag_for(CODE_VERSION, get_locale(), version)
    modified = max(_utc(last_modified), STARTED)
    if not is_resource_modified(request.environ, etag=etag, last_modified=modified):
        resp = Response(status=304)
    else:
        resp = make_response(build())
    resp.set_etag(etag)
    resp.last_modified = modified
    return _cache_control(resp, fresh)


@bp.errorhandler(404)
def _not_found(e):
    resp = make_response(render_template("public/error.html"), 404)
    return _cache_control(resp)


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


# -------------------------------------------------------------------------------------------- pages


@bp.get("/")
@public
def index():
    latest = queries.draw_list(1, per_page=5)
    return conditional(
        f"index:{latest.has_next}:" + queries.rows_version(latest.rows),
        queries.list_last_modified(),
        lambda: render("public/index.html", latest=latest),
    )


@bp.get("/draws")
@public
def draws():
    listing = queries.draw_list(_page_arg())
    return conditional(
        f"draws:{listing.page}:{listing.has_next}:" + queries.rows_version(listing.rows),
        queries.list_last_modified(),
        lambda: render("public/draws.html", listing=listing),
    )


def _public_draw_or_404(public_id: str):
    draw = queries.public_draw(public_id)
    if draw is None:
        abort(404)
    return draw


@bp.get("/draws/<public_id>")
@public
def draw(public_id: str):
    d = _public_draw_or_404(public_id)
    version, last = queries.draw_version(d)
    return conditional("draw:" + version, last, lambda: render("public/draw.html", page=queries.draw_page(d), draw=d))


@bp.get("/draws/<public_id>/bundle.json")
@public
def bundle(public_id: str):
    d = _public_draw_or_404(public_id)
    version, last = queries.draw_version(d)

    def build() -> Response:
        body = json.dumps(queries.public_bundle(d), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        resp = Response(body, mimetype="application/json")
        resp.headers["Content-Disposition"] = f'attachment; filename="bundle-{d.public_id}.json"'
        return resp

    return conditional("bundle:" + version, last, build)


@bp.get("/verify.py")
@public
def verifier():
    """The standalone verifier: byte for byte the draw engine ``webapp/draw/engine.py``, saved as verify.py."""
    data = VERIFY_PY.read_bytes()
    mtime = dt.datetime.fromtimestamp(VERIFY_PY.stat().st_mtime, dt.UTC)

    def build() -> Response:
        resp = Response(data, mimetype="text/x-python")
        resp.headers["Content-Disposition"] = 'attachment; filename="verify.py"'
        return resp

    return conditional("verify.py:" + hashlib.sha256(data).hexdigest(), mtime, build)


@bp.get("/verify")
@public
def verify():
    latest = queries.draw_list(1, per_page=1).rows
    return conditional(
        "verify:" + queries.rows_version(latest),
        queries.list_last_modified(),
        lambda: render("public/verify.html", example=worked_example(), latest=latest),
    )


@bp.get("/items")
@public
def items():
    groups = catalog.item_list()
    version, last = catalog.items_version(groups)
    return conditional(version, last, lambda: render("public/items.html", groups=groups))


@bp.get("/plans")
@public
def plans():
    years = catalog.plan_years()
    try:
        year = int(request.args["year"]) if request.args.get("year") else (years[0] if years else None)
    except ValueError:
        year = years[0] if years else None
    rows = catalog.plan_list(year)
    return conditional(
        f"plans:{year}:{years}:" + catalog.plans_version(rows),
        queries.list_last_modified(),
        lambda: render("public/plans.html", plans=rows, years=years, year=year),
    )


@bp.get("/notice")
@public
@limiter.limit("30 per minute")
def notice_check():
    """查验整改通知书: the number and the unit's USCC from a paper notice lead to its verification page."""
    number, uscc = request.args.get("number", "").strip(), request.args.get("uscc", "").strip()
    error, status, missing = None, 200, {}
    if "number" in request.args or "uscc" in request.args:
        missing = {
            name: _("请填写%(what)s。", what=label)
            for name, value, label in (("number", number, _("文书编号")), ("uscc", uscc, _("统一社会信用代码")))
            if not value
        }
        if missing:
            status = 422
        else:
            order = find_for_check(number, uscc)
            if order is not None:
                return redirect(url_for("rectification.verify", token=order.token), 303)
            error, status = _("未找到与该文书编号和统一社会信用代码相符的整改通知书，请核对后重试。"), 404
    page = render("public/notice_check.html", status=status, number=number, uscc=uscc, error=error, missing=missing)
    resp = make_response(page)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


@bp.get("/results")
@public
def results_page():
    found = results.search(request.args.get("q", ""), _page_arg())
    return conditional(
        results.page_version(found),
        results.last_modified(),
        lambda: render("public/results.html", found=found),
    )


@bp.get("/audit-anchors")
@public
def audit_anchors():
    """审计日志校验值: the audit log's chain heads as anchored (webapp/audit.py), newest first."""
    page = _page_arg()
    rows, has_next = audit.anchors_page(page)
    return conditional(
        f"anchors:{page}:{has_next}:" + ",".join(f"{a.id}:{a.head_hash}" for a in rows),
        max((a.at for a in rows), default=None),
        lambda: render("public/anchors.html", anchors=rows, page=page, has_next=has_next),
    )


@bp.get("/register")
@public
def register():
    """抽取公示名册: every committed draw from its commitment on, with the heads of its ceremony log."""
    listing = queries.register(_page_arg())
    version, last = queries.register_version(listing)
    return conditional(version, last, lambda: render("public/register.html", listing=listing), fresh=True)


@bp.get("/register.atom")
@public
def register_feed():
    """The register as an Atom feed, so outsiders can archive the heads as they appear."""
    listing = queries.register(1)
    version, last = queries.register_version(listing)
    items = atom.register_entries(listing)
    url = url_for("public.register_feed", _external=True)

    def build() -> Response:
        body = atom.render_atom(items, feed_id=url, title=_("抽取公示名册"), self_url=url)
        return Response(body, mimetype="application/atom+xml")

    return conditional("register.atom:" + version, last, build, fresh=True)


@bp.get("/feed.atom")
@public
def feed():
    items = atom.entries()
    last = max((e.updated for e in items), default=None)
    return conditional(
        atom.version(items),
        last,
        lambda: Response(atom.render_atom(items), mimetype="application/atom+xml"),
    )


@bp.get("/api/v1/results.json")
@public
def api_results():
    found = results.search(request.args.get("q", ""), _page_arg())

    def build() -> Response:
        nxt = url_for("public.api_results", q=found.query or None, page=found.page + 1) if found.has_next else None
        payload = {
            "page": found.page,
            "per_page": results.PER_PAGE,
            "has_next": found.has_next,
            "next": nxt,
            "query": found.query,
            "results": [results.as_json(r) for r in found.rows],
        }
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True) + "\n"
        resp = Response(body, mimetype="application/json")
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp

    return conditional("api:" + results.page_version(found), results.last_modified(), build)
