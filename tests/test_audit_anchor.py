"""The audit log's chain head anchored outside the database (finding 7 of issue 12).

Before: deleting the last events, or editing an event and recomputing the hashes of it and every later event,
passed ``flask audit-verify`` (the chain is consistent again). Now ``flask audit-anchor`` (daily on the job queue,
or on demand) writes the head — last event id, its hash, the number of events, the time — to the storage backend
under an append-only key per date and to a table the public site lists as 审计日志校验值 (page and feed), and
``flask audit-verify`` checks the chain against every anchor.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from tests.helpers import body, s3_test_bucket
from webapp import audit, calendar, storage
from webapp.audit import AuditEvent


@pytest.fixture(autouse=True)
def _own_store(app, tmp_path, monkeypatch):
    """Each test anchors into an empty store (the database is emptied between tests, the store must be too)."""
    monkeypatch.setitem(app.config, "STORAGE_URL", f"file://{tmp_path}/storage")


def _events(db, n: int) -> None:
    for i in range(n):
        audit.record(None, "test.event", ("thing", i), {"n": i})
    db.session.commit()


def _ids(db) -> list[int]:
    return list(db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())


def _rewrite_from(db, event_id: int, **changes) -> None:
    """The attack of finding 7: edit one event and recompute its hash and the hash of every later event."""
    prev = db.session.execute(select(AuditEvent.hash).where(AuditEvent.id < event_id).order_by(AuditEvent.id.desc()))
    prev_hash = prev.scalars().first() or audit.GENESIS
    later = db.session.execute(select(AuditEvent).where(AuditEvent.id >= event_id).order_by(AuditEvent.id)).scalars()
    for ev in list(later):
        if ev.id == event_id:
            for field, value in changes.items():
                setattr(ev, field, value)
        ev.prev_hash = prev_hash
        ev.hash = prev_hash = audit._event_hash(prev_hash, ev)
        db.session.flush()
    db.session.commit()


def _anchor(runner):
    result = runner.invoke(args=["audit-anchor"])
    assert result.exit_code == 0, result.output
    return result


def test_deleting_the_tail_is_detected(runner, db):
    _events(db, 12)
    _anchor(runner)
    db.session.execute(text("DELETE FROM audit_event WHERE id > :n"), {"n": _ids(db)[-4]})
    db.session.commit()
    assert audit.verify_chain_only() == []  # what audit-verify checked before: the shortened chain is consistent

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1, result.output  # before: "OK: audit chain intact (9 events …)"
    assert f"event {_ids(db)[-1] + 3} is missing" in result.output


def test_rewriting_history_and_recomputing_the_hashes_is_detected(runner, db):
    _events(db, 10)
    _anchor(runner)
    _events(db, 2)  # later events are fine: the anchor covers what existed when it was written
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    fifth = _ids(db)[4]
    _rewrite_from(db, fifth, data='{"n":"rewritten"}')
    assert audit.verify_chain_only() == []

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1, result.output
    assert "history was rewritten" in result.output


def test_the_storage_copy_catches_a_rewrite_even_when_the_anchor_rows_are_gone(runner, db):
    _events(db, 6)
    _anchor(runner)
    _rewrite_from(db, _ids(db)[1], actor_name="someone-else")
    db.session.execute(text("DELETE FROM audit_anchor"))
    db.session.commit()

    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "history was rewritten" in result.output
    assert "not listed in the database" in result.output


def test_an_anchor_removed_from_storage_or_altered_is_reported(runner, db):
    _events(db, 3)
    _anchor(runner)
    key = db.session.execute(select(audit.AuditAnchor.storage_key)).scalar_one()
    doc = json.loads(storage.get_object(key))
    doc["count"] = 2
    storage.delete_object(key)
    storage.put_object(key, json.dumps(doc).encode())
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1 and "differs from the database" in result.output

    storage.delete_object(key)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1 and "missing from storage" in result.output


def test_anchor_writes_the_head_to_storage_append_only(runner, db):
    _events(db, 5)
    out = _anchor(runner).output
    head = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert "5 events" in out and head.hash in out

    row = db.session.execute(select(audit.AuditAnchor)).scalar_one()
    assert (row.last_event_id, row.head_hash, row.event_count, row.day) == (head.id, head.hash, 5, calendar.today())
    assert row.storage_key.startswith(f"audit-anchors/{calendar.today().isoformat()}/")
    doc = json.loads(storage.get_object(row.storage_key))
    assert (doc["last_event_id"], doc["head_hash"], doc["count"]) == (head.id, head.hash, 5)
    assert doc["date"] == calendar.today().isoformat()

    _anchor(runner)  # nothing new since: the same anchor, nothing written
    assert storage.list_objects("audit-anchors/") == [row.storage_key]
    _events(db, 1)
    _anchor(runner)
    keys = storage.list_objects("audit-anchors/")
    assert len(keys) == 2 and row.storage_key in keys
    assert db.session.execute(select(func.count(audit.AuditAnchor.id))).scalar_one() == 2
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_public_site_lists_the_anchors(runner, db, app):
    client = app.test_client()
    assert "审计日志校验值" in body(client.get("/public/"))
    assert "暂无" in body(client.get("/public/audit-anchors"))
    _events(db, 7)
    _anchor(runner)
    head = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()

    page = client.get("/public/audit-anchors")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    html = body(page)
    assert "审计日志校验值" in html and calendar.today().isoformat() in html
    assert "<td>7</td>" in html and head in html  # the count, the head hash

    feed = body(client.get("/public/feed.atom"))
    assert "审计日志校验值" in feed and calendar.today().isoformat() in feed and head in feed


def test_anchors_on_an_s3_backend(runner, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_URL", s3_test_bucket(monkeypatch))
    _events(db, 4)
    _anchor(runner)
    key = db.session.execute(select(audit.AuditAnchor.storage_key)).scalar_one()
    assert storage.list_objects("audit-anchors/") == [key]
    assert isinstance(storage.current(), storage.S3Storage)
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": _ids(db)[-1]})
    db.session.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1 and "is missing" in result.output


@pytest.mark.parametrize("broken", ["tail", "rewrite"])
def test_the_audit_log_page_reports_a_broken_anchor_in_chinese(client, db, runner, supervisor, login_as, broken):
    _events(db, 4)
    _anchor(runner)
    if broken == "tail":
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": _ids(db)[-1]})
        db.session.commit()
    else:
        _rewrite_from(db, _ids(db)[0], reason="改过")
    login_as(supervisor)
    html = body(client.get("/registry/audit?verify=1"))
    assert "审计链校验失败" in html
    assert f"与{calendar.today().isoformat()}的审计日志校验值不符" in html
