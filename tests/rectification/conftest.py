"""A small world for notices: an organisation, a unit, a task with two inspectors, a submitted inspection."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from flask_babel import force_locale

from tests.factories import make_inspector, make_item, make_org, make_unit, make_user
from webapp.auth.models import Organisation, Role, User
from webapp.db import utcnow
from webapp.extensions import db as _db
from webapp.inspections.models import CheckResult, Inspection, InspectionStatus, PublishedCategory
from webapp.registry.models import Inspector, Unit
from webapp.tasks.models import Task, TaskAssignment, TaskKind

PROBLEMS = [
    {"text": "疏散通道堆放杂物，联系人张三（13812341188）未及时清理", "basis": "《中华人民共和国消防法》第二十八条"},
    {"text": "灭火器压力不足", "basis": "《中华人民共和国消防法》第十六条第一款第二项"},
]


@dataclass
class World:
    org: Organisation
    unit: Unit
    task: Task
    inspection: Inspection
    supervisor: User
    lead_user: User
    partner_user: User
    lead: Inspector
    partner: Inspector
    other_org: Organisation


def make_task(org: Organisation, unit: Unit, item_version_id: int, inspectors: list[Inspector]) -> Task:
    task = Task(
        org_id=org.id,
        unit_id=unit.id,
        item_version_id=item_version_id,
        kind=TaskKind.ROUTINE,
        planned_date=dt.date(2026, 11, 20),
    )
    _db.session.add(task)
    _db.session.flush()
    for slot, insp in enumerate(inspectors):
        _db.session.add(
            TaskAssignment(
                task_id=task.id, slot=slot, dept="fire", role="lead" if slot == 0 else "assist", inspector_id=insp.id
            )
        )
    _db.session.flush()
    return task


def make_inspection(task: Task, result: CheckResult | None = CheckResult.DEADLINE) -> Inspection:
    """A record of ``task``: submitted with a result that calls for an order, or (``result=None``) a fresh draft."""
    ins = Inspection(client_uuid=str(uuid.uuid4()), task_id=task.id, org_id=task.org_id)
    if result is not None:
        ins.status, ins.result, ins.category = InspectionStatus.SUBMITTED, result, PublishedCategory.ORDERED_RECTIFY
        ins.submitted_at = utcnow()
    _db.session.add(ins)
    _db.session.flush()
    return ins


@pytest.fixture
def world(db) -> World:
    org = make_org(code="yanshi", name="偃师区消防救援大队")
    org.short_name = "偃师大队"
    other = make_org(code="other", name="另一个大队")
    item = make_item(org)
    unit = make_unit(org, name="偃师测试商贸有限公司", safety_person="张三", contact_phone="13812341188")
    lead_user = make_user(org, Role.INSPECTOR)
    partner_user = make_user(org, Role.INSPECTOR)
    lead = make_inspector(org, name="王小锋", user=lead_user)
    partner = make_inspector(org, name="李四", user=partner_user)
    task = make_task(org, unit, item.current.id, [lead, partner])
    inspection = make_inspection(task)
    sup = make_user(org, Role.SUPERVISOR)
    _db.session.commit()
    return World(org, unit, task, inspection, sup, lead_user, partner_user, lead, partner, other)


@pytest.fixture(autouse=True)
def _chinese(db):
    """Services translate their messages; outside a request the locale is forced (as a request would)."""
    with force_locale("zh_Hans"):
        yield
