"""The offline package's worlds: an app with a syncable test endpoint (so the ledger is tested on its own, before
and apart from the on-site views that carry it)."""

from __future__ import annotations

import hashlib

import pytest
from flask import Blueprint, make_response, request
from flask_login import current_user

from tests.helpers import app_test_config
from webapp import audit, create_app
from webapp.auth.permissions import inspector_required
from webapp.extensions import db as _db
from webapp.offline.ledger import syncable

probe = Blueprint("sync_probe", __name__)


@probe.route("/sync-probe/notes", methods=["POST"])
@inspector_required
@syncable
def note():
    """A stand-in for an on-site view: one audited change per application; 422 (rolled back) without text."""
    text = request.form.get("text", "").strip()
    if not text:
        return "<p class='error'>请填写问题描述</p>", 422
    audit.record(current_user, "probe.note", ("probe", text), {"text": text, "note": request.form.get("note")})
    _db.session.commit()
    resp = make_response(f"<li>{text}</li>", 200)
    resp.headers["HX-Retarget"] = "#notes"
    return resp


@probe.route("/sync-probe/photos", methods=["POST"])
@inspector_required
@syncable
def photo():
    data = request.files["photo"].read()
    audit.record(current_user, "probe.photo", ("probe", "photo"), {"size": len(data)})
    _db.session.commit()
    resp = make_response("<img alt=''>", 201)
    resp.headers["X-Content-SHA256"] = hashlib.sha256(data).hexdigest()
    return resp


@pytest.fixture(scope="session")
def sync_app(app):
    """The suite's database, an app of its own with the probe endpoints (routes cannot be added to a used app)."""
    application = create_app(app_test_config())
    application.register_blueprint(probe)
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def sync_client(sync_app, db):
    return sync_app.test_client()
