"""Issuing an order from an inspection, recording the 复查 outcome, and the numbering settings, as a user does."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.factories import make_inspection, make_inspector, make_user, record_for_order
from tests.helpers import PROBLEMS
from webapp.auth.models import Role
from webapp.inspections.models import Finding
from webapp.rectification import services
from webapp.rectification.models import FollowUp, OrderStatus, RectificationOrder
from webapp.registry.models import CreditLevel


@pytest.fixture
def with_findings(world, db):
    for i, p in enumerate(PROBLEMS, start=1):
        db.session.add(Finding(inspection_id=world.inspection.id, seq=i, text=p["text"], legal_basis=p["basis"]))
    db.session.commit()
    return world


def _issue_data(**kw):
    data = {
        "client_key": str(uuid.uuid4()),  # the form's hidden key
        "kind": "deadline",
        "deadline_days": "5",
        "problems-0-text": "疏散通道堆放杂物",
        "problems-0-basis": "《中华人民共和国消防法》第二十八条",
        "problems-1-text": "",
        "problems-1-basis": "",
    }
    data.update(kw)
    return data


def test_the_form_is_prefilled_from_the_findings(client, login_as, with_findings):
    login_as(with_findings.lead_user)
    html = client.get(f"/notices/new/{with_findings.inspection.id}").get_data(as_text=True)
    assert "灭火器压力不足" in html and "第十六条第一款第二项" in html


def test_an_assigned_inspector_issues_an_order(client, login_as, world, db):
    login_as(world.lead_user)
    resp = client.post(f"/notices/new/{world.inspection.id}", data=_issue_data())
    assert resp.status_code == 303
    order = db.session.execute(select(RectificationOrder)).scalar_one()
    assert resp.headers["Location"].endswith(f"/notices/{order.id}")
    assert order.number.startswith("偃师大队限字〔") and order.number.endswith("〕第0001号")
    assert order.problems == [{"text": "疏散通道堆放杂物", "basis": "《中华人民共和国消防法》第二十八条"}]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert order.number in page and f"/notices/{order.id}/outcome" in page


def test_no_order_on_a_draft_record_without_a_result(client, login_as, world, db):
    """Live bug (issue 9): the rule "only on a submitted record whose result calls for one" lived only in the
    record page's template; a POST on a draft with no result made a numbered order."""
    draft = make_inspection(world.task)
    db.session.commit()
    login_as(world.lead_user)
    assert client.get(f"/notices/new/{draft.id}").status_code == 409
    resp = client.post(f"/notices/new/{draft.id}", data=_issue_data())
    assert resp.status_code == 409 and "检查结果为责令改正" in resp.get_data(as_text=True)
    assert db.session.execute(select(RectificationOrder)).first() is None
    with pytest.raises(services.OrderError, match="提交"):
        services.issue_order(world.lead_user, draft, "deadline", PROBLEMS, 5)


def test_errors_are_shown_next_to_the_field_and_input_is_kept(client, login_as, world, db):
    login_as(world.lead_user)
    resp = client.post(
        f"/notices/new/{world.inspection.id}",
        data=_issue_data(**{"deadline_days": "abc", "problems-0-text": "消火栓无水"}),
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "请填写整改期限" in html and "消火栓无水" in html
    resp = client.post(f"/notices/new/{world.inspection.id}", data=_issue_data(**{"problems-0-basis": ""}))
    assert resp.status_code == 422 and "法律依据" in resp.get_data(as_text=True)
    assert db.session.execute(select(RectificationOrder)).first() is None


def test_htmx_success_redirects_with_hx_redirect(client, login_as, world):
    login_as(world.lead_user)
    resp = client.post(f"/notices/new/{world.inspection.id}", data=_issue_data(), headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.headers["HX-Redirect"].startswith("/notices/")


def test_other_inspectors_cannot_issue(client, login_as, world, db):
    stranger = make_user(world.org, Role.INSPECTOR)
    make_inspector(world.org, user=stranger)
    db.session.commit()
    login_as(stranger)
    assert client.get(f"/notices/new/{world.inspection.id}").status_code == 404
    assert client.post(f"/notices/new/{world.inspection.id}", data=_issue_data()).status_code == 404
    assert client.get("/notices/new/987654").status_code == 404


def test_recording_the_outcome(client, login_as, world, db):
    order = services.issue_order(world.lead_user, world.inspection, "deadline", PROBLEMS, 5)
    db.session.commit()
    login_as(world.partner_user)
    url = f"/notices/{order.id}/outcome"
    assert client.get(url).status_code == 200
    resp = client.post(url, data={"result-0": "yes"})
    assert resp.status_code == 422 and "逐项" in resp.get_data(as_text=True)
    resp = client.post(url, data={"result-0": "yes", "result-1": "no", "follow_up": "referral"})
    assert resp.status_code == 422 and "移送的部门" in resp.get_data(as_text=True)
    resp = client.post(
        url, data={"result-0": "yes", "result-1": "no", "follow_up": "referral", "referred_to": "区住建局"}
    )
    assert resp.status_code == 303
    db.session.expire_all()
    order = db.session.get(RectificationOrder, order.id)
    assert order.status == OrderStatus.NOT_RECTIFIED and order.outcome == [True, False]
    assert db.session.execute(select(FollowUp.referred_to)).scalar_one() == "区住建局"
    assert order.unit.credit_level == CreditLevel.POOR
    page = client.get(f"/notices/{order.id}").get_data(as_text=True)
    assert "区住建局" in page and f"/notices/{order.id}/outcome" not in page
    assert "已逾期" in client.get(f"/v/{order.token}").get_data(as_text=True)


def test_supervisors_cannot_record_outcomes(client, login_as, world, db):
    order = services.issue_order(world.lead_user, world.inspection, "deadline", PROBLEMS, 5)
    db.session.commit()
    login_as(world.supervisor)
    assert client.get(f"/notices/{order.id}/outcome").status_code == 403


def test_numbering_settings(client, login_as, world, db):
    login_as(world.supervisor)
    assert "偃师大队限字" in client.get("/notices/numbering").get_data(as_text=True)
    bad = client.post(
        "/notices/numbering",
        data={"abbr": "偃", "pattern_deadline": "{abbr}消限字{seq}", "pattern_immediate": "{abbr}即{year}{seq}"},
    )
    assert bad.status_code == 422 and "{abbr}消限字{seq}" in bad.get_data(as_text=True)
    ok = client.post(
        "/notices/numbering",
        data={
            "abbr": "偃",
            "pattern_deadline": "{abbr}消限字〔{year}〕第{seq:04d}号",
            "pattern_immediate": "{abbr}消即字〔{year}〕第{seq:04d}号",
        },
    )
    assert ok.status_code == 303
    order = services.issue_order(world.lead_user, world.inspection, "deadline", PROBLEMS, 5)
    assert order.number.startswith("偃消限字〔")


def test_supervisors_list_their_orders_by_status(client, login_as, world, db):
    import datetime as dt

    late = services.issue_order(
        world.lead_user, world.inspection, "deadline", PROBLEMS, 3, today=dt.date.today() - dt.timedelta(days=30)
    )
    current = services.issue_order(world.lead_user, record_for_order(world.task), "deadline", PROBLEMS, 10)
    db.session.commit()
    login_as(world.supervisor)
    everything = client.get("/notices/").get_data(as_text=True)
    assert late.number in everything and current.number in everything
    overdue = client.get("/notices/?state=overdue").get_data(as_text=True)
    assert late.number in overdue and current.number not in overdue
    pending = client.get("/notices/?state=pending", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert current.number in pending and late.number not in pending and "<html" not in pending
    outsider = make_user(world.other_org, Role.SUPERVISOR)
    db.session.commit()
    client.post("/logout")
    login_as(outsider)
    assert late.number not in client.get("/notices/").get_data(as_text=True)


def test_an_inspector_of_the_reinspection_task_only_may_record_the_outcome(client, login_as, world, db):
    import datetime as dt

    from webapp.tasks.models import TaskAssignment

    order = services.issue_order(
        world.lead_user, world.inspection, "deadline", PROBLEMS, 3, today=dt.date.today() - dt.timedelta(days=30)
    )
    (task,) = services.create_due_reinspections(None)
    substitute_user = make_user(world.org, Role.INSPECTOR)
    substitute = make_inspector(world.org, user=substitute_user)
    first = task.assignments[0]
    first.active = False  # the lead is on leave: replaced on the 复查 task
    db.session.add(
        TaskAssignment(task_id=task.id, slot=first.slot, dept="fire", role="lead", inspector_id=substitute.id)
    )
    db.session.commit()
    login_as(substitute_user)
    assert client.get(f"/notices/{order.id}").status_code == 200
    resp = client.post(f"/notices/{order.id}/outcome", data={"result-0": "yes", "result-1": "yes"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(RectificationOrder, order.id).status == OrderStatus.RECTIFIED


def test_a_failed_point_without_a_finding_prefills_the_order_with_its_text_note_and_basis(client, login_as, world, db):
    from webapp.catalog.models import ChecklistPoint
    from webapp.inspections.models import Answer, ChecklistAnswer

    insp = world.inspection
    point = ChecklistPoint(
        item_version_id=world.task.item_version_id,
        seq=99,
        dept="fire",
        text="安全出口畅通",
        basis="《消防法》第二十八条",
    )
    db.session.add(point)
    db.session.flush()
    db.session.add(
        ChecklistAnswer(inspection_id=insp.id, point_id=point.id, answer=Answer.FAILS, note="三楼安全出口上锁")
    )
    db.session.commit()
    login_as(world.lead_user)
    html = client.get(f"/notices/new/{insp.id}").get_data(as_text=True)
    assert "安全出口畅通：三楼安全出口上锁" in html and "《消防法》第二十八条" in html
