"""A queued change is applied once however often the phone sends it (webapp/offline/ledger.py)."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.helpers import body, events, login, new_uuid
from webapp.auth.models import Role
from webapp.db import utcnow
from webapp.offline.models import SyncLedger

URL = "/sync-probe/notes"


def _inspector(db, username="lead"):
    user = make_user(make_org(), role=Role.INSPECTOR, username=username)
    db.session.commit()
    return user


def _send(client, data, cid=None):
    headers = {"HX-Request": "true"}
    if cid:
        headers["X-Client-Id"] = cid
    return client.post(URL, data=data, headers=headers)


def test_the_same_change_sent_twice_is_applied_once_and_the_second_answer_is_the_first(sync_client, db):
    _inspector(db)
    login(sync_client, "lead")
    cid = new_uuid()
    first = _send(sync_client, {"text": "三楼安全出口上锁", "note": "已拍照"}, cid)
    again = _send(sync_client, {"note": "已拍照", "text": "三楼安全出口上锁"}, cid)  # order does not matter
    assert first.status_code == again.status_code == 200
    assert body(again) == body(first) == "<li>三楼安全出口上锁</li>"
    assert again.headers["X-Sync"] == "replay" and "X-Sync" not in first.headers
    assert again.headers["HX-Retarget"] == "#notes"  # the headers the view set come back too
    assert len(events(db, "probe.note")) == 1  # the view ran once: one audit event, not one per replay
    row = db.session.execute(select(SyncLedger)).scalar_one()
    assert (row.client_id, row.endpoint, row.status) == (cid, "sync_probe.note", 200)


def test_the_same_id_with_other_content_is_refused_naming_what_differs(sync_client, db):
    _inspector(db)
    login(sync_client, "lead")
    cid = new_uuid()
    _send(sync_client, {"text": "三楼安全出口上锁", "note": "已拍照"}, cid)
    resp = _send(sync_client, {"text": "三楼安全出口上锁", "note": "未拍照"}, cid)
    assert resp.status_code == 409
    assert "这项修改的编号已用于另一内容：备注 原为“已拍照”，现为“未拍照”" in body(resp)
    assert "问题描述" not in body(resp)  # only the field that differs
    assert len(events(db, "probe.note")) == 1


def test_without_a_client_id_nothing_changes(sync_client, db):
    _inspector(db)
    login(sync_client, "lead")
    assert _send(sync_client, {"text": "甲"}).status_code == 200
    assert _send(sync_client, {"text": "甲"}).status_code == 200
    assert len(events(db, "probe.note")) == 2  # a form without JavaScript posts as it always did
    assert db.session.execute(select(SyncLedger)).first() is None


def test_a_refused_change_keeps_no_receipt_so_the_corrected_one_applies_with_the_same_id(sync_client, db):
    _inspector(db)
    login(sync_client, "lead")
    cid = new_uuid()
    refused = _send(sync_client, {"text": ""}, cid)
    assert refused.status_code == 422
    assert db.session.execute(select(SyncLedger)).first() is None
    corrected = _send(sync_client, {"text": "灭火器过期"}, cid)
    assert corrected.status_code == 200 and "X-Sync" not in corrected.headers
    assert len(events(db, "probe.note")) == 1


def test_ids_are_per_user(sync_client, db):
    _inspector(db, "lead")
    _inspector(db, "partner")
    cid = new_uuid()
    login(sync_client, "lead")
    _send(sync_client, {"text": "甲"}, cid)
    sync_client.post("/logout")
    login(sync_client, "partner")
    resp = _send(sync_client, {"text": "乙"}, cid)
    assert resp.status_code == 200 and "X-Sync" not in resp.headers
    assert len(events(db, "probe.note")) == 2


def test_a_photo_is_told_apart_by_its_bytes_and_replayed_with_its_hash(sync_client, db):
    _inspector(db)
    login(sync_client, "lead")
    cid = new_uuid()

    def upload(data: bytes):
        return sync_client.post(
            "/sync-probe/photos",
            data={"photo": (io.BytesIO(data), "a.jpg", "image/jpeg")},
            headers={"X-Client-Id": cid, "HX-Request": "true"},
            content_type="multipart/form-data",
        )

    first = upload(b"jpeg-bytes")
    assert first.status_code == 201 and len(first.headers["X-Content-SHA256"]) == 64
    again = upload(b"jpeg-bytes")  # the view read the stream after the ledger hashed it
    assert again.status_code == 201 and again.headers["X-Content-SHA256"] == first.headers["X-Content-SHA256"]
    assert again.headers["X-Sync"] == "replay"
    other = upload(b"other-bytes")
    assert other.status_code == 409 and "照片 为另一文件" in body(other)
    assert len(events(db, "probe.photo")) == 1


def test_a_receipt_without_its_answer(sync_client, db):
    """The process stopped between committing the change and storing its answer: recent → 正在处理 (409), later
    → a replay without a body, so the phone drops the entry and keeps what it shows."""
    user = _inspector(db)
    login(sync_client, "lead")
    cid = new_uuid()
    _send(sync_client, {"text": "甲"}, cid)
    row = db.session.execute(select(SyncLedger)).scalar_one()
    row.status, row.body, row.headers = None, None, None
    db.session.commit()
    busy = _send(sync_client, {"text": "甲"}, cid)
    assert busy.status_code == 409 and "正在处理" in body(busy) and busy.headers["Retry-After"] == "5"
    row.created_at = utcnow() - dt.timedelta(minutes=10)
    db.session.commit()
    late = _send(sync_client, {"text": "甲"}, cid)
    assert late.status_code == 200 and late.headers["X-Sync"] == "replay" and late.headers["HX-Reswap"] == "none"
    assert len(events(db, "probe.note")) == 1
    assert row.user_id == user.id


def test_a_malformed_client_id_is_refused(sync_client, db):
    _inspector(db)
    login(sync_client, "lead")
    resp = _send(sync_client, {"text": "甲"}, "x" * 37)
    assert resp.status_code == 422 and "同步编号无效" in body(resp)


def test_an_expired_session_gets_json_not_the_login_page(sync_client, db):
    """The phone keeps its queue and shows the message with a login link."""
    resp = _send(sync_client, {"text": "甲"}, new_uuid())
    assert resp.status_code == 401
    assert resp.get_json() == {"message": "登录已过期，请重新登录后同步。"}
    plain = sync_client.post(URL, data={"text": "甲"}, headers={"X-Client-Id": new_uuid()})  # without htmx too
    assert plain.status_code == 401 and plain.is_json
    assert sync_client.post(URL, data={"text": "甲"}).status_code == 302  # a plain form still goes to login
