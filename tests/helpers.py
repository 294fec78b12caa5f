"""Support code the tests share that is not a fixture: the test app's configuration and database resets,
logging in, reading responses and audit events, and the steps of signing an inspection record.

Importing this module first (tests/conftest.py does) points the app's instance folder at a temporary
directory before ``webapp`` is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid

import pytest

_TMP = tempfile.mkdtemp(prefix="suijian-test-")
os.environ.setdefault("SUIJIAN_INSTANCE", os.path.join(_TMP, "instance"))

from sqlalchemy import select, text  # noqa: E402

from webapp import calendar  # noqa: E402
from webapp.audit import AuditEvent  # noqa: E402
from webapp.extensions import db as _db  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + os.path.join(_TMP, "test.db")
DEMO_PASSWORD = "suijian-demo"  # of every user the factories make (and of the demo data's users)

# Two problems for a rectification order, the first naming a person and a phone number (masked in public).
PROBLEMS = [
    {"text": "疏散通道堆放杂物，联系人张三（13812341188）未及时清理", "basis": "《中华人民共和国消防法》第二十八条"},
    {"text": "灭火器压力不足", "basis": "《中华人民共和国消防法》第十六条第一款第二项"},
]


# ----------------------------------------------------------------------------------- the clock


def suite_now() -> dt.datetime | None:
    """The moment the suite runs at (SUIJIAN_TEST_NOW), or None for the real clock."""
    raw = os.environ.get("SUIJIAN_TEST_NOW")
    if not raw:
        return None
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise pytest.UsageError("SUIJIAN_TEST_NOW needs an offset, e.g. 2027-12-31T16:30:00+08:00")
    return moment


def next_period(today: dt.date | None = None) -> str:
    """The month after ``today`` (default today) as a draw period, "YYYY-MM"."""
    today = today or calendar.today()
    return f"{today.year + (today.month == 12):04d}-{today.month % 12 + 1:02d}"


# ------------------------------------------------------------------------------- app and database


def app_test_config(url: str = TEST_DATABASE_URL) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
        "DASHBOARD_CACHE_SECONDS": 0,  # figures computed on every request (tests/dashboard/test_cache.py: on)
        "QUEUE_IMMEDIATE": True,  # queued tasks run where they are enqueued (tests/test_worker.py: a real worker)
    }


def reset_schema(app) -> None:
    """Drop everything and build the schema with the Alembic migrations (not create_all)."""
    from flask_migrate import upgrade

    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def truncate_all(app) -> None:
    import shutil

    url = app.config.get("STORAGE_URL", "")
    if url.startswith("file://"):  # the audit anchors in the store are the twin of the audit_anchor table
        shutil.rmtree(os.path.join(url.removeprefix("file://"), "audit-anchors"), ignore_errors=True)
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))


# ------------------------------------------------------------------------------- requests


def login(client, username: str, password: str = DEMO_PASSWORD):
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login as {username} failed: {resp.status_code}"
    return resp


def body(resp) -> str:
    return resp.get_data(as_text=True)


def as_(browser):
    """Use ``browser`` (a test client) for the next request, as a fresh request would see it.

    Test requests run inside the test's app context (the ``db`` fixture pushes one), so ``flask.g`` and with it
    Flask-Login's cached ``g._login_user`` survive from one request to the next, across test clients. Dropping
    the cached user makes the next request load its user from its own session cookie, as in production.
    """
    from flask import g

    g.pop("_login_user", None)
    return browser


def events(db, action: str) -> list[AuditEvent]:
    """Audit events of one action, oldest first (read in a fresh transaction)."""
    db.session.rollback()
    return list(
        db.session.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars()
    )


# ------------------------------------------------------------------------------- on site


def new_uuid() -> str:
    return str(uuid.uuid4())


def signature_strokes() -> str:
    """A handwritten-like zig-zag on a 340 x 200 pad: enough points and ink to pass the checks."""
    points = [{"x": 30 + i * 5, "y": 60 + (i % 6) * 15, "time": 1000 + i * 16, "pressure": 0.5} for i in range(50)]
    return json.dumps([{"penColor": "black", "points": points}])


def sign_all(client, task, slots: list[str]) -> None:
    """Every signer of the record signs (``slots``: "unit" and "inspector:<id>" keys)."""
    for key in slots:
        data = {"signer": key, "strokes": signature_strokes(), "width": "340", "height": "200"}
        if key == "unit":
            data["signer_name"] = "王小明"
        else:  # the signed-in inspector signs for the others: 代签, which needs a reason (ignored for oneself)
            data["proxy_reason"] = "同组检查人员当场在本机签字"
        resp = client.post(f"/inspections/tasks/{task.public_id}/signatures", data=data)
        assert resp.status_code == 200, resp.get_data(as_text=True)


def signer_keys(task) -> list[str]:
    return ["unit", *[f"inspector:{a.inspector_id}" for a in task.active_assignments]]


# ------------------------------------------------------------------------------- object storage

_s3_server: list = []  # the moto_server this test process started (at most one), stopped at exit


def s3_endpoint() -> str:
    """The S3 API the storage tests talk to: ``S3_TEST_ENDPOINT_URL`` (.ci/run starts moto_server and sets it),
    else a ``moto_server`` started here on a free port (stopped when the test process exits).

    Without either: skipped with the reason outside CI, a failure under ``CI=true`` (CI must test the S3 backend).
    """
    import atexit
    import shutil
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    url = os.environ.get("S3_TEST_ENDPOINT_URL")
    if url:
        return url
    if _s3_server:
        return _s3_server[0]
    exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    if exe is None:
        reason = "no S3 API server: set S3_TEST_ENDPOINT_URL or install moto[server] (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason + " — required in CI")
        pytest.skip(reason)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(  # our own venv's moto_server
        [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    atexit.register(lambda: (proc.terminate(), proc.wait(10)))
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # moto_server takes a second or two to import its services
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()  # noqa: S310 - a local http URL
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited with status {proc.returncode}")
            time.sleep(0.05)
    else:
        pytest.fail(f"moto_server did not answer on {url}")
    _s3_server.append(url)
    return url


def s3_test_bucket(monkeypatch) -> str:
    """A fresh bucket on the test S3 server, the environment pointing at it (endpoint, dummy credentials):
    returns the ``STORAGE_URL`` to use, ``s3://<bucket>/suijian``."""
    import boto3

    endpoint = s3_endpoint()
    for name, value in {
        "S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any credentials
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.path.join(_TMP, "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(_TMP, "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/suijian"


# ------------------------------------------------------------------------------ item forms (catalog)


def new_item_form(org_id: int, **overrides) -> dict:
    data = {
        "code": "night-check",
        "org_id": str(org_id),
        "name": "对人员密集场所夜间消防安全情况的抽查",
        "basis": "《中华人民共和国消防法》",
        "subject": "区消防救援大队",
        "target": "人员密集场所",
        "target_types": ["social_unit"],
        "category": "重点检查事项",
        "methods": ["现场检查"],
        "ratio_frequency": "每季度不少于一次",
        "departments": ["fire"],
        "points-0-dept": "fire",
        "points-0-text": "夜间防火巡查情况",
        "points-0-basis": "《中华人民共和国消防法》第十七条",
        "points-1-dept": "fire",
        "points-1-text": "",
        "points-1-basis": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_form(item, **overrides) -> dict:
    """The edit form as the page fills it in from the current version."""
    v = item.current
    data = {
        "name": v.name,
        "basis": v.basis,
        "subject": v.subject,
        "target": v.target,
        "target_types": [t.value for t in v.target_type_list],
        "category": v.category,
        "methods": v.methods.split("、"),
        "ratio_frequency": v.ratio_frequency,
        "departments": v.dept_list,
        "change_note": "",
    }
    for i, p in enumerate(v.points):
        data[f"points-{i}-dept"] = p.dept
        data[f"points-{i}-text"] = p.text
        data[f"points-{i}-basis"] = p.basis or ""
    data.update(overrides)
    return data
