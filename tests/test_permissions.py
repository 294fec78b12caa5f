"""The permission matrix: every route × role, checked by requests, not by reading decorators alone.

``EXPECTED`` lists every endpoint with who may reach it. A new route that is not listed here fails
``test_every_route_is_in_the_matrix``, so access is decided deliberately. Object-level rules (own
organisation, own task, own job …) are the functions of ``webapp.auth.access``, tested object by object in
tests/test_access.py.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.factories import make_org, make_user
from tests.helpers import app_test_config, login
from webapp import create_app
from webapp.auth.models import Role

PUBLIC, LOGIN, SUPERVISOR, ADMIN, INSPECTOR = "public", "login", "supervisor", "admin", "inspector"

EXPECTED: dict[str, str] = {
    "auth.login": PUBLIC,
    "auth.logout": LOGIN,
    "auth.password": LOGIN,
    "core.home": LOGIN,
    "core.me": LOGIN,
    "dashboard.index": SUPERVISOR,
    "dashboard.export_tasks": SUPERVISOR,
    "dashboard.export_results": SUPERVISOR,
    "dashboard.export_rectifications": SUPERVISOR,
    "dashboard.export_tasks_csv": SUPERVISOR,
    "dashboard.export_results_csv": SUPERVISOR,
    "dashboard.export_rectifications_csv": SUPERVISOR,
    "publication.index": SUPERVISOR,
    "publication.publish": SUPERVISOR,
    "publication.review": SUPERVISOR,
    # export jobs: supervisors; a job is seen only by the user who started it (404 for others, tested beside it)
    "dashboard.export_start": SUPERVISOR,
    "dashboard.export_job": SUPERVISOR,
    "dashboard.export_download": SUPERVISOR,
    "core.set_language": PUBLIC,
    "core.healthz": PUBLIC,
    # the item list: supervisors read it, admins keep it
    "catalog.items": SUPERVISOR,
    "catalog.item_detail": SUPERVISOR,
    "catalog.item_version": SUPERVISOR,
    "catalog.item_new": ADMIN,
    "catalog.item_edit": ADMIN,
    "catalog.item_status": ADMIN,
    # the common-problem library of an item (issue 13): kept by supervisors
    "catalog.problems": SUPERVISOR,
    "catalog.problem_edit": SUPERVISOR,
    "catalog.problem_status": SUPERVISOR,
    # organisations, users, the working-day calendar: admins only
    "admin.calendar": ADMIN,
    "admin.calendar_notice_post": ADMIN,
    "admin.calendar_ranges_post": ADMIN,
    "admin.calendar_confirm": ADMIN,
    "admin.orgs": ADMIN,
    "admin.org_new": ADMIN,
    "admin.org_edit": ADMIN,
    "admin.org_status": ADMIN,
    "admin.users": ADMIN,
    "admin.user_new": ADMIN,
    "admin.user_edit": ADMIN,
    "admin.user_password": ADMIN,
    "admin.user_status": ADMIN,
    # the two libraries, imports and the audit log: supervisors (admins too)
    **{
        f"registry.{name}": SUPERVISOR
        for name in (
            "units",
            "unit_new",
            "unit_detail",
            "unit_edit",
            "unit_status",
            "unit_export",
            "unit_import",
            "unit_template_csv",
            "unit_template_xlsx",
            "quality",
            "import_job",
            "import_errors",
            "audit_log",
            "inspectors",
            "inspector_new",
            "inspector_detail",
            "inspector_edit",
            "inspector_freeze",
            "inspector_import",
            "inspector_template_csv",
            "inspector_template_xlsx",
            "inspector_unavailable_add",
            "inspector_unavailable_cancel",
            "inspector_conflict_add",
            "inspector_conflict_withdraw",
            "inspector_unit_options",
        )
    },
    # the draw: supervisors run it; a draw's page, bundle and tasks are login-only and then decided per object
    # (supervisors of the organisation, assigned inspectors; 404 for everyone else, tested in tests/draw)
    **{
        f"draw.{name}": SUPERVISOR
        for name in (
            "index",
            "plan_new",
            "plan_detail",
            "plan_edit",
            "pool",
            "commit",
            "witness",
            "perform",
            "publish",
            "abandon",
            "close",
            "replace",
            "task_new",
        )
    },
    "draw.ceremony": LOGIN,
    "draw.bundle": LOGIN,
    "draw.task": LOGIN,
    # 一公开: the public site
    **{f"public.{name}": PUBLIC for name in ("index", "draws", "draw", "bundle", "verifier", "verify")},
    "rectification.verify": PUBLIC,
    # 扫码亮证: the code's page and its forms are public (rate-limited, signed form token); ratings and reports
    # are for the supervisors (object level: their organisation subtree, tests/trace)
    "trace.scan": PUBLIC,
    "trace.rate": PUBLIC,
    "trace.report": PUBLIC,
    "trace.feedback": SUPERVISOR,
    "rectification.notice": LOGIN,
    "rectification.notice_pdf": LOGIN,
    "rectification.issue": INSPECTOR,
    "rectification.outcome": INSPECTOR,
    "rectification.numbering": SUPERVISOR,
    "rectification.orders": SUPERVISOR,
    # on site (issue 4): the assigned inspectors only; photos also for supervisors of the task's organisation
    **{
        f"inspections.{name}": INSPECTOR
        for name in (
            "task",
            "start",
            "partner",
            "notice",
            "notice_pdf",
            "check_form_pdf",
            "record",
            "answer",
            "finding_add",
            "finding_delete",
            "finding_edit",
            "result",
            "submit",
            "supplement",
            "photo_upload",
            "sign",
        )
    },
    "inspections.photo": LOGIN,
    "inspections.photo_thumb": LOGIN,
    "inspections.signature_png": LOGIN,
    # offline on site (issue 10): the phone's session and worker files are public, the pack is the inspector's,
    # device reports and the device page any logged-in user's, the outbox import the supervisors'
    "offline.session_info": PUBLIC,
    "offline.shell": PUBLIC,
    "offline.service_worker": PUBLIC,
    "offline.manifest": PUBLIC,
    "offline.pack": INSPECTOR,
    "offline.status": LOGIN,
    "offline.device": LOGIN,
    "offline.import_outbox": SUPERVISOR,
    # public site, part 2 (items, plans, results, feed, API)
    **{
        f"public.{name}": PUBLIC
        for name in (
            "items",
            "plans",
            "results_page",
            "feed",
            "api_results",
            "notice_check",
            "audit_anchors",
            "register",
            "register_feed",
        )
    },
}

ROLES_ALLOWED = {
    PUBLIC: {None, Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN},
    LOGIN: {Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN},
    SUPERVISOR: {Role.SUPERVISOR, Role.ADMIN},
    ADMIN: {Role.ADMIN},
    INSPECTOR: {Role.INSPECTOR},
}


def _rules(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _url(rule: Rule) -> str:
    values = {}
    for arg in rule.arguments:
        conv = rule._converters[arg]
        values[arg] = 987654 if type(conv).__name__ == "IntegerConverter" else "no-such-thing"
    return rule.build(values, append_unknown=False)[1]


def _method(rule: Rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def test_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in _rules(app)}
    assert sorted(endpoints - EXPECTED.keys()) == [], "new routes must be added to EXPECTED"
    assert sorted(EXPECTED.keys() - endpoints) == [], "EXPECTED lists routes that no longer exist"


def test_guards_match_the_matrix(app):
    from webapp.auth.permissions import guard_of

    as_guard = {
        PUBLIC: "public",
        LOGIN: "login",
        SUPERVISOR: ("admin", "supervisor"),
        ADMIN: ("admin",),
        INSPECTOR: ("inspector",),
    }
    for endpoint, expected in EXPECTED.items():
        assert guard_of(app, endpoint) == as_guard[expected], endpoint


@pytest.mark.parametrize("role", [None, Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN], ids=lambda r: str(r))
def test_each_role_is_kept_out_of_what_it_may_not_reach(app, client, db, role):
    org = make_org()
    if role is not None:
        make_user(org, role=role, username="probe")
        db.session.commit()
        login(client, "probe")
    for rule in _rules(app):
        access = EXPECTED[rule.endpoint]
        if role in ROLES_ALLOWED[access]:
            continue
        method = _method(rule)
        url = _url(rule)
        resp = client.open(url, method=method)
        if role is None:
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], (method, url, resp.status_code)
        else:
            assert resp.status_code == 403, (role, method, url, resp.status_code)


def test_anonymous_htmx_request_gets_401_not_a_login_page(client, db):
    resp = client.get("/registry/units", headers={"HX-Request": "true"})
    assert resp.status_code == 401


def test_every_post_needs_a_csrf_token(app, db):
    csrf_app = create_app({**app_test_config(), "WTF_CSRF_ENABLED": True})
    org = make_org()
    make_user(org, role=Role.ADMIN, username="root")
    db.session.commit()
    c = csrf_app.test_client()
    # log in with a token taken from the form, as a browser would
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert (
        c.post("/login", data={"username": "root", "password": "suijian-demo", "csrf_token": token}).status_code == 302
    )
    for rule in _rules(csrf_app):
        if "POST" not in rule.methods or rule.endpoint == "auth.login":
            continue
        resp = c.post(_url(rule), data={})
        assert resp.status_code == 400, (rule.rule, resp.status_code)
        assert "表单已过期" in resp.get_data(as_text=True)
    with csrf_app.app_context():
        from webapp.extensions import db as _db

        _db.engine.dispose()
