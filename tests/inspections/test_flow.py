"""An assigned inspector checks in, fills the checklist (autosaved), records findings, a result, and submits."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.helpers import login, new_uuid, sign_all, signer_keys
from webapp.audit import AuditEvent, verify
from webapp.auth.models import User
from webapp.inspections.models import Inspection, InspectionStatus, PartnerPresence
from webapp.tasks.models import TaskStatus

HX = {"HX-Request": "true"}


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


def _start(client, scene, **extra):
    data = {"client_uuid": new_uuid(), **extra}
    return client.post(_url(scene, "/start"), data=data), data["client_uuid"]


def _record(db, scene) -> Inspection:
    db.session.expire_all()
    return (
        db.session.execute(select(Inspection).where(Inspection.task_id == scene.task.id).order_by(Inspection.id.desc()))
        .scalars()
        .first()
    )


def test_task_page_shows_unit_map_phone_partner_and_start(client, db, scene):
    login(client, "lead")
    page = client.get(_url(scene)).get_data(as_text=True)
    assert "洛阳好运来超市" in page
    assert "https://uri.amap.com/search?keyword=" in page
    assert 'href="tel:13800138000"' in page
    assert "赵志刚" in page  # the partner
    assert "开始检查" in page
    assert "js/checkin.js" in page  # the check-in asks for the position (static/js/checkin.js)


def test_check_in_records_position_and_moves_task_in_progress(client, db, scene):
    login(client, "lead")
    resp, cu = _start(client, scene, lat="34.7272", lon="112.7878", accuracy="12.5")
    assert resp.status_code == 303
    insp = _record(db, scene)
    assert insp.client_uuid == cu and insp.checkin_at is not None
    assert (insp.checkin_lat, insp.checkin_lon, insp.checkin_accuracy) == (34.7272, 112.7878, 12.5)
    assert insp.location_note is None
    assert insp.task.status == TaskStatus.IN_PROGRESS
    # a double tap on 开始检查 with the same UUID gives the same record
    client.post(_url(scene, "/start"), data={"client_uuid": cu})
    assert db.session.query(Inspection).count() == 1
    actions = [e.action for e in db.session.execute(select(AuditEvent)).scalars()]
    assert actions.count("inspection.start") == 1


def test_refused_location_is_recorded_as_such_and_the_inspection_goes_on(client, db, scene):
    login(client, "lead")
    resp, _ = _start(client, scene, location_error="User denied Geolocation")
    assert resp.status_code == 303
    insp = _record(db, scene)
    assert insp.checkin_lat is None and "定位被拒绝" in insp.location_note
    page = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "定位被拒绝" in page


def test_notice_page_shows_basis_content_and_certificates(client, db, scene):
    login(client, "lead")
    page = client.get(_url(scene, "/notice")).get_data(as_text=True)
    assert "行政检查通知书" in page
    assert "《中华人民共和国消防法》" in page  # basis
    assert "疏散通道畅通" in page  # content
    assert "豫消A0001" in page and "豫消A0002" in page  # 亮证
    pdf = client.get(_url(scene, "/notice.pdf"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_checklist_answers_are_autosaved_and_a_reload_shows_them(client, db, scene):
    login(client, "lead")
    _start(client, scene)
    p1, p2, _p3 = scene.points
    resp = client.post(_url(scene, f"/answers/{p1.id}"), data={"answer": "complies", "note": ""}, headers=HX)
    assert resp.status_code == 200 and "已保存" in resp.get_data(as_text=True)
    client.post(_url(scene, f"/answers/{p2.id}"), data={"answer": "fails", "note": "灭火器过期"}, headers=HX)
    record = client.get(_url(scene, "/record"))
    assert "no-store" in record.headers["Cache-Control"]  # the browser never shows a stale copy of the draft
    page = record.get_data(as_text=True)
    assert 'value="fails" checked' in page and "灭火器过期" in page
    assert 'value="complies" checked' in page
    # a bad value is refused in Chinese with 422
    bad = client.post(_url(scene, f"/answers/{p1.id}"), data={"answer": "合格"}, headers=HX)
    assert bad.status_code == 422 and "请选择符合、不符合或不适用" in bad.get_data(as_text=True)
    # a point of another item is not found
    assert client.post(_url(scene, "/answers/987654"), data={"answer": "na"}, headers=HX).status_code == 422


def test_findings_and_result_must_agree(client, db, scene):
    login(client, "lead")
    _start(client, scene)
    empty = client.post(_url(scene, "/findings"), data={"text": "  "}, headers=HX)
    assert empty.status_code == 422 and "请描述发现的问题" in empty.get_data(as_text=True)
    # 责令限期改正 without any problem recorded is refused
    r = client.post(_url(scene, "/result"), data={"result": "deadline", "category": "ordered_rectify"}, headers=HX)
    assert r.status_code == 422 and "至少要有一个“不符合”的检查项或一个发现的问题" in r.get_data(as_text=True)
    ok = client.post(
        _url(scene, "/findings"),
        data={"text": "疏散通道堆放杂物", "legal_basis": "《中华人民共和国消防法》第二十八条"},
        headers=HX,
    )
    assert ok.status_code == 200 and "疏散通道堆放杂物" in ok.get_data(as_text=True)
    # 未发现问题 with a problem recorded is refused; the category must fit the result
    r = client.post(_url(scene, "/result"), data={"result": "no_problem", "category": "no_problem"}, headers=HX)
    assert r.status_code == 422 and "检查结果不能是“未发现问题”" in r.get_data(as_text=True)
    r = client.post(_url(scene, "/result"), data={"result": "deadline", "category": "no_problem"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "公示类别与检查结果不一致" in body
    assert 'selected value="deadline"' in body  # what was chosen is kept
    r = client.post(_url(scene, "/result"), data={"result": "deadline", "category": "ordered_rectify"}, headers=HX)
    assert r.status_code == 200
    insp = _record(db, scene)
    assert insp.result.value == "deadline" and insp.category.value == "ordered_rectify"
    # the eight national categories are offered, never 合格/不合格
    page = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "未发现开展本次抽查涉及的经营活动" in page
    assert ">合格<" not in page and ">不合格<" not in page


def _fill(client, scene):
    for p in scene.points:
        client.post(_url(scene, f"/answers/{p.id}"), data={"answer": "complies"}, headers=HX)


def test_submit_needs_partner_presence_and_every_point(client, db, scene):
    login(client, "lead")
    _, cu = _start(client, scene)
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem"}
    r = client.post(_url(scene, "/submit"), data=data, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "还有3个检查项未填写" in body and "同组检查人员在场" in body
    assert "还需签字" in body
    _fill(client, scene)
    client.post(_url(scene, "/partner"))
    insp = _record(db, scene)
    assert insp.partner_presence == PartnerPresence.RECORDED_BY_LEAD
    client.post(_url(scene, "/result"), data=data)
    sign_all(client, scene.task, signer_keys(scene.task))
    assert client.post(_url(scene, "/submit"), data=data, headers=HX).status_code == 200
    assert _record(db, scene).status == InspectionStatus.SUBMITTED


def test_partner_confirms_on_own_phone(client, db, scene):
    login(client, "lead")
    _start(client, scene)
    client.post("/logout")
    login(client, "partner")
    assert client.post(_url(scene, "/partner")).status_code == 303
    insp = _record(db, scene)
    assert insp.partner_presence == PartnerPresence.CONFIRMED
    assert insp.partner_inspector.name == "赵志刚"


def test_submit_is_idempotent_and_immutable(client, db, scene):
    login(client, "lead")
    _, cu = _start(client, scene)
    _fill(client, scene)
    client.post(_url(scene, "/partner"))
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem", "remarks": "现场良好"}
    client.post(_url(scene, "/result"), data=data)
    sign_all(client, scene.task, signer_keys(scene.task))
    first = client.post(_url(scene, "/submit"), data=data, headers=HX)
    assert first.status_code == 200 and first.headers["HX-Redirect"].endswith("/record")
    insp = _record(db, scene)
    content_hash = insp.content_hash
    assert len(content_hash) == 64 and insp.task.status == TaskStatus.SUBMITTED
    # a double tap / retry after a timeout: the same record, nothing new
    again = client.post(_url(scene, "/submit"), data=data, headers=HX)
    assert again.status_code == 200
    assert db.session.query(Inspection).count() == 1
    assert _record(db, scene).content_hash == content_hash
    # same UUID, different content: refused with 409, never merged
    changed = client.post(_url(scene, "/submit"), data={**data, "remarks": "另有情况"}, headers=HX)
    assert changed.status_code == 409 and "未作合并" in changed.get_data(as_text=True)
    assert _record(db, scene).remarks == "现场良好"
    # the submitted record cannot be changed
    p = scene.points[0]
    r = client.post(_url(scene, f"/answers/{p.id}"), data={"answer": "fails"}, headers=HX)
    assert r.status_code == 409
    assert client.post(_url(scene, "/findings"), data={"text": "补记"}, headers=HX).status_code == 409
    assert client.post(_url(scene, "/result"), data={"result": "immediate"}, headers=HX).status_code == 409
    events = [e.action for e in db.session.execute(select(AuditEvent)).scalars()]
    assert events.count("inspection.submit") == 1 and "inspection.answer" in events
    page = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert content_hash in page and "已提交" in page


def test_simultaneous_identical_submits_make_one_submit_event(app, client, db, scene):
    """Finding 11 of the security review: four identical submits at the same moment (a double tap on two
    phones, a retry racing the first try) wrote four "draft → submitted" audit events. One submit happens:
    every request is answered with the submitted record, and the audit log has one submit event."""
    login(client, "lead")
    _, cu = _start(client, scene)
    _fill(client, scene)
    client.post(_url(scene, "/partner"))
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem", "remarks": "现场良好"}
    client.post(_url(scene, "/result"), data=data)
    sign_all(client, scene.task, signer_keys(scene.task))
    runs = 4
    phones = [app.test_client() for _ in range(runs)]
    for phone in phones:  # each logged in from its own thread (the test's app context caches the first login)
        t = threading.Thread(target=login, args=(phone, "lead"))
        t.start()
        t.join(60)
    db.session.remove()
    barrier = threading.Barrier(runs)
    answers: list[int] = []

    def submit(phone) -> None:
        barrier.wait(60)
        answers.append(phone.post(_url(scene, "/submit"), data=data, headers=HX).status_code)

    threads = [threading.Thread(target=submit, args=(phone,)) for phone in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert answers == [200] * runs
    insp = _record(db, scene)
    assert insp.status == InspectionStatus.SUBMITTED and db.session.query(Inspection).count() == 1
    submits = db.session.execute(select(AuditEvent).where(AuditEvent.action == "inspection.submit")).scalars().all()
    assert len(submits) == 1
    assert verify() == []


def test_supplementary_record_keeps_all_versions(client, db, scene):
    login(client, "lead")
    _, cu = _start(client, scene)
    _fill(client, scene)
    client.post(_url(scene, "/partner"))
    data = {"client_uuid": cu, "result": "no_problem", "category": "no_problem"}
    client.post(_url(scene, "/result"), data=data)
    sign_all(client, scene.task, signer_keys(scene.task))
    assert client.post(_url(scene, "/submit"), data=data).status_code == 303
    r = client.post(_url(scene, "/supplement"), data={"client_uuid": new_uuid(), "reason": ""})
    assert r.status_code == 422 and "请填写补充更正的原因" in r.get_data(as_text=True)
    r = client.post(_url(scene, "/supplement"), data={"client_uuid": new_uuid(), "reason": "备注漏记单位负责人在场"})
    assert r.status_code == 303
    rows = db.session.execute(select(Inspection).order_by(Inspection.id)).scalars().all()
    assert len(rows) == 2
    old, new = rows
    assert new.supersedes_id == old.id and new.status == InspectionStatus.DRAFT
    assert old.status == InspectionStatus.SUBMITTED and len(new.answers) == 3
    page = client.get(_url(scene, "/record")).get_data(as_text=True)
    assert "第1版" in page and "第2版" in page and "备注漏记单位负责人在场" in page


def test_my_tasks_links_to_the_inspection_page(client, db, scene):
    login(client, "lead")
    page = client.get("/me").get_data(as_text=True)
    assert f"/inspections/tasks/{scene.task.public_id}" in page


def test_submit_without_javascript_submits_the_saved_draft(client, db, scene):
    login(client, "lead")
    _, cu = _start(client, scene)
    _fill(client, scene)
    client.post(_url(scene, "/partner"))
    saved = client.post(_url(scene, "/result"), data={"result": "no_problem", "category": "no_activity"})
    assert saved.status_code == 303  # a plain form post comes back to the page
    sign_all(client, scene.task, signer_keys(scene.task))
    r = client.post(_url(scene, "/submit"), data={"client_uuid": cu})  # the no-JS form posts only the UUID
    assert r.status_code == 303
    insp = _record(db, scene)
    assert insp.status == InspectionStatus.SUBMITTED and insp.category.value == "no_activity"
    assert insp.content["category"] == "no_activity"


def test_one_open_draft_per_task_even_when_both_start_at_once(client, db, scene):
    from webapp.inspections import services

    login(client, "lead")
    _, first = _start(client, scene)
    # the partner's phone loaded the task before the lead's draft existed, then taps 开始检查
    partner = db.session.execute(select(User).where(User.username == "partner")).scalar_one()
    ctx = services.task_context(partner, scene.task.public_id)
    ctx.inspection = None  # what the partner's request saw
    joined = services.start(partner, ctx, new_uuid())
    db.session.commit()
    assert joined.client_uuid == first
    assert db.session.query(Inspection).count() == 1
