"""不符合 on a point opens a finding prefilled from it; a common problem fills a finding; findings stay editable until
submission; the order form takes everything from the findings."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from tests.factories import make_item
from tests.helpers import body, events, login, new_uuid
from webapp.auth.models import Organisation
from webapp.catalog import services as catalog
from webapp.catalog.models import CommonProblemUse
from webapp.db import utcnow
from webapp.extensions import db as _db
from webapp.inspections.models import CheckResult, Finding, Inspection, InspectionStatus, PublishedCategory

HX = {"HX-Request": "true"}
BASIS = "《中华人民共和国消防法》第二十八条"


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


def _started(client, scene):
    scene.points[2].basis = BASIS
    _db.session.commit()
    login(client, "lead")
    assert client.post(_url(scene, "/start"), data={"client_uuid": new_uuid()}).status_code == 303


def _record(db, scene) -> Inspection:
    db.session.expire_all()
    return db.session.execute(select(Inspection).where(Inspection.task_id == scene.task.id)).scalars().first()


def _problem(scene, **kw):
    item = scene.task.item_version.item
    values = {"text": "安全出口上锁", "legal_basis": BASIS, "order_kind": "deadline", "deadline_days": "3", **kw}
    problem = catalog.add_problem(None, item, values)
    _db.session.commit()
    return problem


def test_fails_on_a_point_opens_a_finding_prefilled_from_the_point(client, db, scene):
    _started(client, scene)
    point = scene.points[2]
    resp = client.post(
        _url(scene, f"/answers/{point.id}"), data={"answer": "fails", "note": "三楼安全出口上锁"}, headers=HX
    )
    assert resp.status_code == 200
    html = body(resp)
    # the answer's status line and, out of band, the finding it suggests (text, note and basis of the point)
    assert 'id="point-findings" hx-swap-oob="true"' in html
    assert "疏散通道畅通不符合要求：三楼安全出口上锁" in html and BASIS in html
    assert f'name="point_id" value="{point.id}"' in html
    # recorded as it was offered: linked to the point, with its basis
    resp = client.post(
        _url(scene, "/findings"),
        data={"text": "疏散通道畅通不符合要求：三楼安全出口上锁", "legal_basis": BASIS, "point_id": point.id},
        headers={**HX, "X-Client-Id": new_uuid()},
    )
    assert resp.status_code == 200
    f = _record(db, scene).findings[0]
    assert (f.point_id, f.legal_basis) == (point.id, BASIS)
    # the point no longer asks for a finding
    assert f'name="point_id" value="{point.id}"' not in body(client.get(_url(scene, "/record")))


def test_a_complying_answer_sends_no_prompt_and_a_point_without_finding_is_offered_on_the_page(client, db, scene):
    _started(client, scene)
    ok = client.post(_url(scene, f"/answers/{scene.points[0].id}"), data={"answer": "complies"}, headers=HX)
    assert "point-findings" not in body(ok)
    client.post(_url(scene, f"/answers/{scene.points[2].id}"), data={"answer": "fails"}, headers=HX)
    page = body(client.get(_url(scene, "/record")))
    assert f'data-offline-key="finding:point-{scene.points[2].id}"' in page
    assert "第3项不符合，记录为问题" in page


def test_picking_a_common_problem_fills_and_links_the_finding(client, db, scene):
    _started(client, scene)
    problem = _problem(scene)
    page = body(client.get(_url(scene, "/record")))
    assert "从常见问题库选择（1个）" in page and f'name="common_problem" value="{problem.id}"' in page
    cu = new_uuid()
    resp = client.post(_url(scene, "/findings"), data={"common_problem": problem.id, "client_uuid": cu}, headers=HX)
    assert resp.status_code == 200
    f = _record(db, scene).findings[0]
    assert (f.text, f.legal_basis, f.client_uuid) == ("安全出口上锁", BASIS, cu)
    use = db.session.execute(select(CommonProblemUse)).scalar_one()
    assert (use.finding_id, use.common_problem_id) == (f.id, problem.id)
    # a retry of the same change is the same finding and one link
    client.post(_url(scene, "/findings"), data={"common_problem": problem.id, "client_uuid": cu}, headers=HX)
    assert db.session.query(Finding).count() == 1 and db.session.query(CommonProblemUse).count() == 1


def test_a_problem_of_another_item_or_disabled_is_refused(client, db, scene):
    _started(client, scene)
    other = make_item(db.session.get(Organisation, scene.task.org_id))
    foreign = catalog.add_problem(
        None, other, {"text": "别的事项", "legal_basis": BASIS, "order_kind": "immediate", "deadline_days": ""}
    )
    disabled = _problem(scene)
    catalog.set_problem_active(None, disabled, False)
    db.session.commit()
    for pid in (foreign.id, disabled.id):
        resp = client.post(
            _url(scene, "/findings"), data={"common_problem": pid, "client_uuid": new_uuid()}, headers=HX
        )
        assert resp.status_code == 422
        assert "所选的常见问题不存在或已停用" in body(resp)
    assert db.session.query(Finding).count() == 0


def test_a_finding_is_editable_until_submission_audited_keeping_its_ids(client, db, scene):
    _started(client, scene)
    cu = new_uuid()
    client.post(_url(scene, "/findings"), data={"text": "安全出口堆放杂物", "client_uuid": cu}, headers=HX)
    f = _record(db, scene).findings[0]
    public_id = f.public_id
    # the URL may name it by its client id (a finding made offline)
    resp = client.post(
        _url(scene, f"/findings/{cu}/edit"), data={"text": "二楼安全出口堆放杂物", "legal_basis": BASIS}, headers=HX
    )
    assert resp.status_code == 200 and "二楼安全出口堆放杂物" in body(resp)
    f = _record(db, scene).findings[0]
    assert (f.text, f.legal_basis, f.client_uuid, f.public_id) == ("二楼安全出口堆放杂物", BASIS, cu, public_id)
    (ev,) = events(db, "inspection.finding_edit")
    data = json.loads(ev.data)
    assert data["text"] == ["安全出口堆放杂物", "二楼安全出口堆放杂物"]
    assert data["legal_basis"] == ["", BASIS] and data["client_uuid"] == cu
    # an empty text is refused next to the field, the typed value kept
    resp = client.post(_url(scene, f"/findings/{public_id}/edit"), data={"text": " ", "legal_basis": "x"}, headers=HX)
    assert resp.status_code == 422 and "请描述发现的问题。" in body(resp)
    # another task's finding is not reachable through this task
    assert client.post(_url(scene, "/findings/nope/edit"), data={"text": "x"}).status_code == 404
    # after submission: refused
    insp = _record(db, scene)
    insp.status = InspectionStatus.SUBMITTED
    db.session.commit()
    resp = client.post(_url(scene, f"/findings/{public_id}/edit"), data={"text": "再改"}, headers=HX)
    assert resp.status_code == 409
    assert _record(db, scene).findings[0].text == "二楼安全出口堆放杂物"


def test_the_order_form_takes_text_basis_kind_and_deadline_from_the_findings(client, db, scene):
    _started(client, scene)
    slow = _problem(scene, text="灭火器压力不足", deadline_days="10")
    fast = _problem(scene, text="疏散指示标志损坏", deadline_days="5")
    for p in (slow, fast):
        client.post(_url(scene, "/findings"), data={"common_problem": p.id, "client_uuid": new_uuid()}, headers=HX)
    insp = _record(db, scene)
    insp.findings[1].text = "三楼疏散指示标志损坏"  # reworded: the link still carries the suggestion
    insp.status, insp.submitted_at = InspectionStatus.SUBMITTED, utcnow()
    insp.result, insp.category = CheckResult.DEADLINE, PublishedCategory.ORDERED_RECTIFY
    db.session.commit()
    page = body(client.get(f"/notices/new/{insp.id}"))
    assert "灭火器压力不足" in page and "三楼疏散指示标志损坏" in page and BASIS in page
    assert re.search(r'name="deadline_days"[^>]*value="5"|value="5"[^>]*name="deadline_days"', page)  # shortest
    assert re.search(r'<input[^>]*checked[^>]*value="deadline"|<input[^>]*value="deadline"[^>]*checked', page)
