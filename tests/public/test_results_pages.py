"""The public results (抽查结果公示): search, categories, masking, rectification and penalties."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest

from tests.factories import make_inspector, make_item, make_org, make_unit
from tests.public.test_public import make_world, run_draw
from webapp.inspections.models import Finding, Inspection, InspectionStatus, PublishedCategory
from webapp.rectification.models import FollowUp, FollowUpKind, OrderKind, OrderStatus, RectificationOrder
from webapp.tasks.models import Task, TaskAssignment, TaskKind

USCC = "91410381MA44XXXX1Q"
NOW = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)


def add_inspection(
    db, task: Task, category=PublishedCategory.ORDERED_RECTIFY, submitted=True, findings=()
) -> Inspection:
    ins = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=task.org_id,
        status=InspectionStatus.SUBMITTED if submitted else InspectionStatus.DRAFT,
        category=category,
        checkin_at=NOW,
        submitted_at=NOW if submitted else None,
        published_at=NOW if submitted else None,  # published on submission (no 公示前审核)
    )
    db.session.add(ins)
    db.session.flush()
    for seq, text in enumerate(findings, start=1):
        db.session.add(Finding(inspection_id=ins.id, seq=seq, text=text))
    db.session.flush()
    return ins


def manual_task(db, org, unit, item, inspectors) -> Task:
    task = Task(
        org_id=org.id,
        unit_id=unit.id,
        item_version_id=item.current.id,
        kind=TaskKind.COMPLAINT,
        planned_date=NOW.date(),
    )
    db.session.add(task)
    db.session.flush()
    for slot, insp in enumerate(inspectors):
        db.session.add(TaskAssignment(task_id=task.id, slot=slot, dept="fire", role="lead", inspector_id=insp.id))
    db.session.flush()
    return task


def add_order(
    db, ins: Inspection, unit, status=OrderStatus.PENDING, number="偃消限字〔2026〕第0001号"
) -> RectificationOrder:
    order = RectificationOrder(
        org_id=ins.org_id,
        inspection_id=ins.id,
        task_id=ins.task_id,
        unit_id=unit.id,
        kind=OrderKind.DEADLINE,
        number=number,
        year=2026,
        seq=1,
        problems=[{"text": "x", "basis": "y"}],
        issued_at=NOW,
        issued_on=NOW.date(),
        deadline_days=5,
        deadline=NOW.date() + dt.timedelta(days=7),
        status=status,
        status_at=NOW,
    )
    db.session.add(order)
    db.session.flush()
    return order


@dataclass
class Results:
    unit: object
    other_unit: object
    public: Inspection
    org: object
    item: object


@pytest.fixture
def results(db) -> Results:
    org = make_org(code="res-1", name="偃师区消防救援大队")
    item = make_item(org, code="fire-duty-r")
    unit = make_unit(
        org, name="偃师公开结果商贸有限公司", uscc=USCC, safety_person="赵建华", contact_phone="13812341188"
    )
    other_unit = make_unit(org, name="偃师另一家五金店")
    lead, partner = make_inspector(org, name="王小锋"), make_inspector(org, name="李四海")
    ins = add_inspection(
        db,
        manual_task(db, org, unit, item, [lead, partner]),
        findings=["疏散通道堆放杂物，安全管理人赵建华（13812341188）称由王小锋同意", "灭火器压力不足"],
    )
    order = add_order(db, ins, unit, status=OrderStatus.NOT_RECTIFIED)
    db.session.add(
        FollowUp(
            order_id=order.id,
            kind=FollowUpKind.PENALTY,
            decision_number="偃消行罚决字〔2026〕0012号",
            decision_date=dt.date(2026, 12, 3),
            published_at=NOW,
        )
    )
    add_inspection(db, manual_task(db, org, other_unit, item, [lead]), category=PublishedCategory.NO_PROBLEM)
    db.session.commit()
    return Results(unit, other_unit, ins, org, item)


def test_a_result_shows_category_problems_rectification_and_penalty_masked(client, db, results):
    resp = client.get("/public/results")
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers and resp.headers["ETag"]
    body = resp.get_data(as_text=True)
    assert "偃师公开结果商贸有限公司" in body and USCC in body and "2026-11-20" in body
    assert "发现问题已责令改正" in body and "未发现问题" in body
    assert "疏散通道堆放杂物" in body and "灭火器压力不足" in body
    assert "逾期未改正" in body and "偃消行罚决字〔2026〕0012号" in body and "2026-12-03" in body
    for secret in ("赵建华", "王小锋", "李四海", "13812341188"):
        assert secret not in body
    assert "合格" not in body.replace("不合格", "")  # never 合格/不合格
    assert "不合格" not in body


def test_search_by_unit_name_or_uscc(client, db, results):
    by_name = client.get("/public/results", query_string={"q": "五金店"}).get_data(as_text=True)
    assert "偃师另一家五金店" in by_name and "偃师公开结果商贸有限公司" not in by_name
    by_code = client.get("/public/results", query_string={"q": USCC.lower()}).get_data(as_text=True)
    assert "偃师公开结果商贸有限公司" in by_code and "偃师另一家五金店" not in by_code
    nothing = client.get("/public/results", query_string={"q": "不存在的单位%"}).get_data(as_text=True)
    assert "没有找到符合条件的检查结果" in nothing


def test_drafts_and_results_of_unpublished_draws_stay_hidden_until_publication(client, db):
    world = make_world(db)
    draw = run_draw(db, world, publish=False)
    task = draw.tasks[0]
    add_inspection(db, task, category=PublishedCategory.UNREACHABLE)
    add_inspection(db, draw.tasks[1], category=PublishedCategory.NON_COOPERATION, submitted=False)
    db.session.commit()
    first = client.get("/public/results")
    assert "通过登记的住所（经营场所）无法联系" not in first.get_data(as_text=True)
    from webapp.draw import services

    services.publish(world.supervisor, draw)
    db.session.commit()
    again = client.get("/public/results", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    body = again.get_data(as_text=True)
    assert "通过登记的住所（经营场所）无法联系" in body and task.unit.name in body
    assert "不配合检查情节严重" not in body


def test_a_superseded_record_is_replaced_by_its_supplement(client, db, results):
    newer = add_inspection(db, results.public.task, category=PublishedCategory.PENDING_FOLLOWUP)
    newer.supersedes_id = results.public.id
    db.session.commit()
    body = client.get("/public/results", query_string={"q": USCC}).get_data(as_text=True)
    assert "发现问题待后续处理" in body and "发现问题已责令改正" not in body


def test_results_revalidate_with_304(client, db, results):
    first = client.get("/public/results")
    assert client.get("/public/results", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
