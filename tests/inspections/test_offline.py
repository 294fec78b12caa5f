"""The record on a phone without signal (issue 10): every change carries a client id so a retry never
duplicates, an offline check-in keeps the phone's time and the server's, a signature binds what the screen
showed, and the day's pack keeps a record page for a task not started yet."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

from sqlalchemy import func, select

from tests.helpers import login, new_uuid, sign_all, signature_strokes, signer_keys
from webapp.audit import AuditEvent
from webapp.db import utcnow
from webapp.inspections import signing
from webapp.inspections.models import Finding, Inspection, Photo, Signature
from webapp.inspections.record import CLOCK_SKEW, checkin_time, draft_uuid, parse_device_time

HX = {"HX-Request": "true"}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


def _record(db, scene) -> Inspection | None:
    db.session.expire_all()
    return db.session.execute(select(Inspection).where(Inspection.task_id == scene.task.id)).scalars().first()


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _events(db, action: str) -> int:
    return _count(db, AuditEvent, AuditEvent.action == action)


def _started(client, db, scene) -> Inspection:
    login(client, "lead")
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid()})
    return _record(db, scene)


def _jpeg(colour=(30, 120, 200)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _task_made_hours_ago(db, scene, hours: int = 3) -> None:
    scene.task.created_at = utcnow() - dt.timedelta(hours=hours)
    db.session.commit()


# ------------------------------------------------------------------------------------------- check-in


def test_location_error_codes_are_recorded_in_chinese(client, db, scene):
    login(client, "lead")
    resp = client.post(_url(scene, "/start"), data={"client_uuid": new_uuid(), "location_error": "timeout"})
    assert resp.status_code == 303
    assert _record(db, scene).location_note == "定位超时"
    assert "定位超时" in client.get(_url(scene, "/record")).get_data(as_text=True)


def test_offline_check_in_keeps_the_phone_time_and_the_receipt_time(client, db, scene):
    _task_made_hours_ago(db, scene)
    tapped = (utcnow() - dt.timedelta(minutes=40)).replace(microsecond=0).astimezone(SHANGHAI)
    login(client, "lead")
    data = {"client_uuid": new_uuid(), "location_error": "unavailable", "device_time": tapped.isoformat()}
    before = utcnow()
    resp = client.post(_url(scene, "/start"), data={**data, "offline": "1"}, headers={"X-Offline-Queued": "1"})
    assert resp.status_code == 303
    insp = _record(db, scene)
    assert insp.checkin_at == tapped  # the moment 开始检查 was tapped, not when the phone found signal
    assert insp.checkin_device_at == tapped
    assert before <= insp.checkin_received_at <= utcnow()
    assert insp.checkin_offline is True and insp.checkin_note is None
    assert insp.location_note == "无法获取位置"
    assert insp.content is None  # (a draft)
    page = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "离线签到，服务器于" in page and "收到" in page
    start = db.session.execute(select(AuditEvent).where(AuditEvent.action == "inspection.start")).scalar_one()
    details = json.loads(start.data)
    details = details.get("details", details)
    assert details["offline"] is True and details["device_time"] is not None


def test_an_implausible_phone_time_gives_the_receipt_time_with_a_note(client, db, scene):
    login(client, "lead")
    ahead = (utcnow() + dt.timedelta(hours=2)).astimezone(SHANGHAI)
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid(), "device_time": ahead.isoformat()})
    insp = _record(db, scene)
    assert insp.checkin_at == insp.checkin_received_at
    assert insp.checkin_device_at is not None and "不可信" in insp.checkin_note
    assert insp.checkin_offline is False
    assert "不可信" in client.get(_url(scene, "/record")).get_data(as_text=True)


def test_online_check_in_without_a_phone_time_is_as_before(client, db, scene):
    login(client, "lead")
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid(), "lat": "34.7", "lon": "112.7"})
    insp = _record(db, scene)
    assert insp.checkin_at == insp.checkin_received_at and insp.checkin_device_at is None
    assert insp.checkin_note is None and insp.checkin_offline is False
    assert "离线签到" not in client.get(_url(scene, "/record")).get_data(as_text=True)


def test_plausibility_of_the_phone_time():
    received = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    created = received - dt.timedelta(days=3)
    ok = received - dt.timedelta(hours=1)
    assert checkin_time(ok, received, created) == (ok, None)
    slightly_fast = received + CLOCK_SKEW
    assert checkin_time(slightly_fast, received, created) == (slightly_fast, None)
    at, note = checkin_time(received + CLOCK_SKEW + dt.timedelta(seconds=1), received, created)
    assert at == received and "不可信" in note
    at, note = checkin_time(created - dt.timedelta(minutes=1), received, created)  # before the task existed
    assert at == received and "不可信" in note
    assert checkin_time(None, received, created) == (received, None)
    assert parse_device_time("2026-12-02T10:00:00+08:00") == dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    assert parse_device_time("2026-12-02T02:00:00Z") == dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    assert parse_device_time("2026-12-02T10:00:00") is None  # no offset: the phone's zone is unknown
    assert parse_device_time("昨天") is None


# ------------------------------------------------------------------------------------------- client ids


def test_a_retried_finding_with_the_same_id_is_one_finding(client, db, scene):
    insp = _started(client, db, scene)
    cu = new_uuid()
    data = {"text": "三楼安全出口上锁", "legal_basis": "《中华人民共和国消防法》第二十八条", "client_uuid": cu}
    first = client.post(_url(scene, "/findings"), data=data, headers=HX)
    again = client.post(_url(scene, "/findings"), data=data, headers=HX)  # committed, but the answer was lost
    assert first.status_code == 200 and again.status_code == 200
    assert _count(db, Finding, Finding.inspection_id == insp.id) == 1
    assert _events(db, "inspection.finding_add") == 1
    assert f'data-finding-ref="{cu}"' in again.get_data(as_text=True)
    # the same id with other content is refused, naming what it was
    other = client.post(_url(scene, "/findings"), data={**data, "text": "灭火器过期"}, headers=HX)
    assert other.status_code == 409 and "三楼安全出口上锁" in other.get_data(as_text=True)
    assert _count(db, Finding) == 1


def test_the_client_id_header_names_the_finding_and_the_ledger_replays_it(client, db, scene):
    _started(client, db, scene)
    cu = new_uuid()
    headers = {**HX, "X-Client-Id": cu, "X-Offline-Queued": "1"}
    data = {"text": "疏散通道堆放杂物", "client_uuid": new_uuid()}  # the header wins over the form's id
    assert client.post(_url(scene, "/findings"), data=data, headers=headers).status_code == 200
    replay = client.post(_url(scene, "/findings"), data=data, headers=headers)
    assert replay.status_code == 200 and replay.headers.get("X-Sync") == "replay"
    finding = db.session.execute(select(Finding)).scalar_one()
    assert finding.client_uuid == cu
    assert _events(db, "inspection.finding_add") == 1


def test_a_photo_queued_for_a_finding_made_offline_names_it_by_client_id(client, db, scene):
    _started(client, db, scene)
    ref = new_uuid()
    client.post(_url(scene, "/findings"), data={"text": "灭火器压力不足", "client_uuid": ref}, headers=HX)
    jpeg = _jpeg()
    photo_id = new_uuid()

    def upload():
        return client.post(
            _url(scene, f"/findings/{ref}/photos"),
            data={"photo": (io.BytesIO(jpeg), "p.jpg"), "client_uuid": photo_id},
            content_type="multipart/form-data",
        )

    first = upload()
    assert first.status_code == 201
    assert first.headers["X-Content-SHA256"] == hashlib.sha256(jpeg).hexdigest()  # the phone may drop its copy
    again = upload()  # the answer was lost on the way: the same photo, once
    assert again.status_code == 201 and again.headers["X-Content-SHA256"] == hashlib.sha256(jpeg).hexdigest()
    assert _count(db, Photo) == 1 and _events(db, "inspection.photo_add") == 1
    # the same photo id with other bytes is refused
    other = client.post(
        _url(scene, f"/findings/{ref}/photos"),
        data={"photo": (io.BytesIO(_jpeg((10, 200, 10))), "q.jpg"), "client_uuid": photo_id},
        content_type="multipart/form-data",
    )
    assert other.status_code == 409 and "照片编号" in other.get_data(as_text=True)
    assert _count(db, Photo) == 1
    # a finding of another task cannot be named
    assert client.post(_url(scene, f"/findings/{new_uuid()}/photos"), data={}).status_code == 404


def test_a_retried_signature_with_the_same_id_is_one_signature(client, db, scene):
    _started(client, db, scene)
    cu = new_uuid()
    data = {"signer": "unit", "signer_name": "王小明", "strokes": signature_strokes(), "width": "340", "height": "200"}
    for _ in range(2):
        resp = client.post(_url(scene, "/signatures"), data={**data, "client_uuid": cu}, headers=HX)
        assert resp.status_code == 200
    assert _count(db, Signature) == 1 and _events(db, "inspection.sign") == 1
    assert db.session.execute(select(Signature)).scalar_one().client_uuid == cu
    # the same id for another signer: refused, nothing replaced
    other = client.post(_url(scene, "/signatures"), data={**data, "signer_name": "李四", "client_uuid": cu}, headers=HX)
    assert other.status_code == 409
    assert db.session.execute(select(Signature)).scalar_one().signer_name == "王小明"


# ------------------------------------------------------------------------------------------- seen


def _screen(scene, answers=None, findings=(), result="", category="", remarks=""):
    return json.dumps(
        {
            "answers": {str(scene.points[i].id): v for i, v in (answers or {}).items()},
            "findings": list(findings),
            "result": result,
            "category": category,
            "remarks": remarks,
        },
        ensure_ascii=False,
    )


def _sign_unit(client, scene, seen):
    data = {"signer": "unit", "signer_name": "王小明", "strokes": signature_strokes(), "width": "340", "height": "200"}
    return client.post(_url(scene, "/signatures"), data={**data, "seen": seen}, headers=HX)


def test_a_signature_is_stored_when_the_record_is_what_the_screen_showed(client, db, scene):
    _started(client, db, scene)
    p1, p2, _p3 = scene.points
    client.post(_url(scene, f"/answers/{p1.id}"), data={"answer": "complies"}, headers=HX)
    client.post(_url(scene, f"/answers/{p2.id}"), data={"answer": "fails", "note": " 灭火器过期\r\n二楼 "}, headers=HX)
    client.post(_url(scene, "/findings"), data={"text": "灭火器过期"}, headers=HX)
    client.post(_url(scene, "/result"), data={"result": "immediate", "category": "ordered_rectify"}, headers=HX)
    seen = _screen(
        scene,
        {0: {"answer": "complies", "note": ""}, 1: {"answer": "fails", "note": "灭火器过期\n二楼"}},
        ["灭火器过期"],
        "immediate",
        "ordered_rectify",
    )
    resp = _sign_unit(client, scene, seen)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _count(db, Signature) == 1


def test_a_signature_is_refused_when_the_record_differs_from_the_screen(client, db, scene):
    """The worst case of the issue: offline, point 2 set to 不符合 with a note and point 3 to 不适用; those
    changes never reached the server, which holds 符合 for both. The signature must not bind that record."""
    _started(client, db, scene)
    for p in scene.points:
        client.post(_url(scene, f"/answers/{p.id}"), data={"answer": "complies"}, headers=HX)
    client.post(_url(scene, "/findings"), data={"text": "消防控制室无人值班"}, headers=HX)
    seen = _screen(
        scene,
        {
            0: {"answer": "complies", "note": ""},
            1: {"answer": "fails", "note": "三楼安全出口上锁"},
            2: {"answer": "na", "note": ""},
        },
        ["三楼安全出口上锁"],
        "immediate",
    )
    resp = _sign_unit(client, scene, seen)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "第2项：屏幕上为“不符合”，服务器上为“符合”" in body
    assert "第2项备注：屏幕上为“三楼安全出口上锁”，服务器上为空" in body
    assert "第3项：屏幕上为“不适用”，服务器上为“符合”" in body
    assert "问题“三楼安全出口上锁”在服务器上没有" in body
    assert "服务器上有问题“消防控制室无人值班”，屏幕上没有" in body
    assert "检查结果：屏幕上为“责令立即改正”，服务器上为“未选择”" in body
    assert "请刷新页面核对" in body
    assert _count(db, Signature) == 0 and _events(db, "inspection.sign") == 0


def test_a_signature_without_seen_is_as_before_and_an_unreadable_seen_is_refused(client, db, scene):
    _started(client, db, scene)
    assert _sign_unit(client, scene, "").status_code == 200  # a form posted without JavaScript
    bad = _sign_unit(client, scene, "{not json")
    assert bad.status_code == 422 and "无法读取签字时屏幕上的内容" in bad.get_data(as_text=True)
    assert _count(db, Signature) == 1


def test_seen_of_and_the_differences_as_plain_functions():
    screen = {
        "answers": {"7": {"answer": "fails", "note": ""}, "9": {"answer": "", "note": "门已修好"}},
        "findings": ["a", "b", "b"],
        "result": "deadline",
        "category": "ordered_rectify",
        "remarks": "",
    }
    server = {
        "answers": {"7": {"answer": "complies", "note": ""}},
        "findings": ["b", "a"],
        "result": "deadline",
        "category": "ordered_rectify",
        "remarks": "负责人在场",
    }
    diffs = signing.seen_differences(screen, server, {"7": 6, "9": 8})
    assert diffs == [
        "第6项：屏幕上为“不符合”，服务器上为“符合”",
        "第8项备注：屏幕上为“门已修好”，服务器上为空",
        "问题“b”在服务器上没有",
        "备注：屏幕上为空，服务器上为“负责人在场”",
    ]
    assert signing.seen_differences(server, server, {"7": 6}) == []
    parsed = signing.parse_seen(json.dumps({"answers": {"7": {"answer": "", "note": "  "}}, "findings": [" x "]}))
    assert parsed == {"answers": {}, "findings": ["x"], "result": "", "category": "", "remarks": ""}


# ------------------------------------------------------------------------------------------- the pack


def test_the_pack_keeps_an_empty_record_page_for_a_task_not_started(client, app, db, scene):
    login(client, "lead")
    assert client.get(_url(scene, "/record")).status_code == 302  # without the pack header: to the task page
    events_before = _count(db, AuditEvent)
    resp = client.get(_url(scene, "/record"), headers={"X-SuiJian-Pack": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for p in scene.points:
        assert p.text in page and f'data-point-id="{p.id}"' in page
    assert 'id="tpl-finding"' in page and 'id="result-form"' in page and 'id="sign-form"' in page
    assert "提交检查记录" in page and "尚未签到" in page
    assert _count(db, Inspection) == 0 and _count(db, AuditEvent) == events_before  # nothing stored
    # the record the queued check-in creates is the one the page's submit names
    expected = draft_uuid(app.secret_key, scene.task.public_id, scene.lead.id)
    assert f'name="client_uuid" value="{expected}"' in page
    task_page = client.get(_url(scene)).get_data(as_text=True)
    assert f'name="client_uuid" value="{expected}"' in task_page


def test_the_pages_carry_the_hooks_of_the_offline_client(client, db, scene):
    login(client, "lead")
    record_url = _url(scene, "/record")
    task_page = client.get(_url(scene)).get_data(as_text=True)
    assert f'data-offline-page="{record_url}"' in task_page
    assert 'data-offline-key="start"' in task_page
    assert 'name="device_time"' in task_page and 'name="offline"' in task_page
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid()})
    client.post(_url(scene, "/findings"), data={"text": "灭火器压力不足"}, headers=HX)
    finding = db.session.execute(select(Finding)).scalar_one()
    page = client.get(record_url).get_data(as_text=True)
    assert f'data-offline-page="{record_url}"' in page
    p = scene.points[0]
    for key in (f"answer:{p.id}", "finding:new", f"finding-delete:{finding.public_id}", "result", "sign", "submit"):
        assert f'data-offline-key="{key}"' in page, key
    assert f'data-offline-key="photo:{finding.public_id}"' in page and 'data-offline-key="partner"' in page
    assert f'data-finding-ref="{finding.public_id}" data-finding-text="灭火器压力不足"' in page
    assert page.count("data-sync-state") >= len(scene.points) + 6
    assert 'name="seen"' in page and "/findings/__REF__/photos" in page
    assert 'data-field="text"' in page and 'data-field="legal_basis"' in page


# ------------------------------------------------------------------------------------------- result rule


def test_an_order_needs_a_failed_point_or_a_finding_and_no_problem_needs_neither(client, db, scene):
    _started(client, db, scene)
    p1 = scene.points[0]
    r = client.post(_url(scene, "/result"), data={"result": "immediate", "category": "ordered_rectify"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "至少要有一个“不符合”的检查项或一个发现的问题" in body
    assert '<p class="error" id="result-err">责令改正时至少要有一个' in body  # next to the field, input kept
    assert 'selected value="immediate"' in body
    client.post(_url(scene, f"/answers/{p1.id}"), data={"answer": "fails"}, headers=HX)
    ok = client.post(_url(scene, "/result"), data={"result": "immediate", "category": "ordered_rectify"}, headers=HX)
    assert ok.status_code == 200
    r = client.post(_url(scene, "/result"), data={"result": "no_problem", "category": "no_problem"}, headers=HX)
    assert r.status_code == 422 and "检查结果不能是“未发现问题”" in r.get_data(as_text=True)


def test_the_no_javascript_flow_still_submits(client, db, scene):
    insp = _started(client, db, scene)
    for p in scene.points:
        client.post(_url(scene, f"/answers/{p.id}"), data={"answer": "complies"})
    client.post(_url(scene, "/partner"))
    client.post(_url(scene, "/result"), data={"result": "no_problem", "category": "no_problem"})
    sign_all(client, scene.task, signer_keys(scene.task))
    assert client.post(_url(scene, "/submit"), data={"client_uuid": insp.client_uuid}).status_code == 303
    assert _record(db, scene).content_hash
