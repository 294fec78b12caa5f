"""The offline package's endpoints: session, the day's pack, device reports on the 工作台, the outbox import."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json

from sqlalchemy import select

from tests.factories import make_inspector, make_org, make_task, make_user
from tests.helpers import body, events, login, new_uuid
from webapp import calendar
from webapp.auth.models import Role
from webapp.db import utcnow
from webapp.offline.models import DeviceReport, SyncLedger
from webapp.tasks.models import TaskStatus


def test_session_says_who_is_logged_in_and_gives_a_token(client, db, scene):
    anon = client.get("/offline/session")
    assert anon.get_json()["user_id"] is None and anon.get_json()["csrf_token"]
    assert anon.headers["Cache-Control"] == "no-store"
    login(client, "lead")
    me = client.get("/offline/session").get_json()
    assert me["user_id"] == scene.lead.id and me["name"] == scene.lead.display_name


def test_the_pack_holds_my_open_tasks_of_the_coming_week_only(client, db, scene):
    today = calendar.today()
    from webapp.auth.models import Organisation

    org, lead_insp = db.session.get(Organisation, scene.task.org_id), scene.lead.inspector
    unit, version = scene.task.unit, scene.task.item_version_id
    overdue = make_task(org, unit, version, day=today - dt.timedelta(days=3), people=[lead_insp])
    in_week = make_task(org, unit, version, day=today + dt.timedelta(days=7), people=[lead_insp])
    too_far = make_task(org, unit, version, day=today + dt.timedelta(days=8), people=[lead_insp])
    done = make_task(org, unit, version, day=today, status=TaskStatus.SUBMITTED, people=[lead_insp])
    cancelled = make_task(org, unit, version, day=today, status=TaskStatus.CANCELLED, people=[lead_insp])
    others = make_task(org, unit, version, day=today, people=[scene.other.inspector])
    db.session.commit()
    login(client, "lead")
    resp = client.get("/offline/pack.json")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    pack = resp.get_json()
    assert pack["user_id"] == scene.lead.id and pack["generated_at"].endswith("Z")
    pages = pack["pages"]
    for t in (scene.task, overdue, in_week):
        for suffix in ("", "/record", "/notice"):
            assert f"/inspections/tasks/{t.public_id}{suffix}" in pages
    for t in (too_far, done, cancelled, others):
        assert not any(t.public_id in p for p in pages)
    assert pages[0] == "/me" and "/offline/device" in pages
    assert "/offline/shell" in pack["assets"]
    assert any(a.startswith("/static/css/app.css?v=") for a in pack["assets"])
    assert not any("public.css" in a or "sw.js" in a for a in pack["assets"])


def test_logged_in_pages_stay_out_of_shared_caches(client, db, scene):
    login(client, "lead")
    assert client.get("/me").headers["Cache-Control"] == "private, no-store"


def test_worker_and_manifest_are_served_from_the_root(app, client, db):
    import os

    for url, name in (("/sw.js", "sw.js"), ("/manifest.webmanifest", "manifest.webmanifest")):
        resp = client.get(url)
        resp.close()  # the file is streamed: close it (ResourceWarning otherwise)
        if not os.path.exists(os.path.join(app.static_folder, name)):
            assert resp.status_code == 404  # offline-client writes the file
            continue
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-cache"
        if name == "sw.js":
            assert resp.headers["Service-Worker-Allowed"] == "/"
            assert resp.mimetype == "text/javascript" and len(resp.headers["X-Assets-Version"]) == 12
        else:
            assert resp.mimetype == "application/manifest+json"


def test_device_page_and_shell(client, db, scene):
    assert "此页面未保存在本机，联网后可打开" in body(client.get("/offline/shell"))
    login(client, "lead")
    page = body(client.get("/offline/device"))
    for needle in ('id="device-storage"', 'id="device-persist"', 'id="device-queue"', "data-sync-now", "data-export"):
        assert needle in page
    assert "导出未同步数据" in page and "立即同步" in page


def _report(client, **kw):
    payload = {
        "device_id": "phone-1",
        "pending": 3,
        "rejected": 1,
        "last_sync_at": "2026-12-01T08:00:00Z",
        "oldest_pending_at": (utcnow() - dt.timedelta(days=2)).isoformat(),
        "storage": {"usage": 1000, "quota": 100000, "persisted": True},
        **kw,
    }
    return client.post("/offline/status", json=payload)


def test_a_device_report_is_kept_newest_wins_and_shown_on_the_supervisors_workbench(client, db, scene):
    login(client, "lead")
    assert _report(client, pending=5).status_code == 204
    assert _report(client).status_code == 204
    assert _report(client, pending="x").status_code == 422
    report = db.session.execute(select(DeviceReport)).scalar_one()
    assert (report.pending, report.rejected, report.persisted) == (3, 1, True)
    client.post("/logout")
    login(client, "boss")
    page = body(client.get("/"))
    assert "现场设备同步" in page and scene.lead.display_name in page
    assert "超过一天未同步" in page and "1项未被接受" in page
    client.post("/logout")
    login(client, "otherboss")  # another organisation's supervisor does not see them
    assert scene.lead.display_name not in body(client.get("/"))


def _outbox(user_id, entries):
    doc = {"format": "suijian-outbox/1", "user_id": user_id, "exported_at": utcnow().isoformat(), "entries": entries}
    return {"file": (io.BytesIO(json.dumps(doc, ensure_ascii=False).encode()), "outbox.json")}


def _entry(text, cid=None, url="/sync-probe/notes"):
    return {"id": cid or new_uuid(), "url": url, "method": "POST", "fields": [["text", text]], "files": []}


def _import_world(db):
    org = make_org()
    inspector = make_user(org, role=Role.INSPECTOR, username="lead")
    make_inspector(org, user=inspector)
    make_user(org, role=Role.SUPERVISOR, username="boss")
    make_user(make_org(), role=Role.SUPERVISOR, username="otherboss")
    db.session.commit()
    return inspector


def test_an_outbox_imports_as_its_inspector_without_duplicating_what_was_synced(sync_client, db):
    inspector = _import_world(db)
    synced = new_uuid()
    login(sync_client, "lead")
    sync_client.post("/sync-probe/notes", data={"text": "甲"}, headers={"X-Client-Id": synced, "HX-Request": "true"})
    sync_client.post("/logout")
    login(sync_client, "boss")
    photo = b"jpeg"
    entries = [
        _entry("甲", synced),
        _entry("乙"),
        _entry("", None),
        _entry("丙", url="/offline/status"),
        {
            "id": new_uuid(),
            "url": "http://localhost/sync-probe/photos",
            "method": "POST",
            "fields": [],
            "files": [
                {
                    "field": "photo",
                    "filename": "a.jpg",
                    "type": "image/jpeg",
                    "sha256": hashlib.sha256(photo).hexdigest(),
                    "data": base64.b64encode(photo).decode(),
                }
            ],
        },
    ]
    resp = sync_client.post("/offline/import", data=_outbox(inspector.id, entries), content_type="multipart/form-data")
    page = body(resp)
    assert resp.status_code == 200, page
    assert page.count(">已同步</span>") == 2 and page.count(">已存在</span>") == 1
    assert "请填写问题描述" in page and "该地址不是可同步的现场操作" in page
    notes = events(db, "probe.note")
    assert [e.payload["text"] for e in notes] == ["甲", "乙"]  # 甲 not twice
    assert all(e.actor_id == inspector.id for e in notes)  # applied as the inspector
    assert len(events(db, "probe.photo")) == 1
    imported = db.session.execute(select(SyncLedger).where(SyncLedger.imported_by_id.is_not(None))).scalars().all()
    assert len(imported) == 2
    (ev,) = events(db, "offline.import")
    assert ev.actor_name == "boss" and ev.payload["applied"] == 2 and ev.payload["existing"] == 1
    # importing the same file again changes nothing
    again = sync_client.post("/offline/import", data=_outbox(inspector.id, entries), content_type="multipart/form-data")
    assert body(again).count(">已存在</span>") == 3 and len(events(db, "probe.note")) == 2
    # the supervisor is still logged in as themself
    assert sync_client.get("/offline/session").get_json()["name"] != inspector.display_name


def test_an_outbox_of_someone_outside_the_organisation_is_refused(sync_client, db):
    inspector = _import_world(db)
    login(sync_client, "otherboss")
    resp = sync_client.post(
        "/offline/import", data=_outbox(inspector.id, [_entry("乙")]), content_type="multipart/form-data"
    )
    assert resp.status_code == 422 and "不能导入" in body(resp)
    assert events(db, "probe.note") == []


def test_the_import_passes_the_csrf_check_of_each_entry(sync_app, sync_client, db):
    inspector = _import_world(db)
    login(sync_client, "boss")
    sync_app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = sync_client.get("/offline/session").get_json()["csrf_token"]
        data = {**_outbox(inspector.id, [_entry("乙")]), "csrf_token": token}
        resp = sync_client.post("/offline/import", data=data, content_type="multipart/form-data")
    finally:
        sync_app.config["WTF_CSRF_ENABLED"] = False
    assert resp.status_code == 200 and ">已同步</span>" in body(resp)
    assert len(events(db, "probe.note")) == 1
