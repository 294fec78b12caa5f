"""A task with two assigned inspectors (lead + assist), another inspector, and supervisors of two organisations."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import make_inspector, make_item, make_org, make_unit, make_user
from webapp.auth.models import Role, User
from webapp.catalog.models import ChecklistPoint, ItemVersion
from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus


@dataclass
class Scene:
    task: Task
    lead: User
    partner: User
    other: User
    supervisor: User
    other_supervisor: User
    points: list[ChecklistPoint]


def make_task(db, org, unit, version_id, people, depts=None) -> Task:
    task = Task(
        org_id=org.id,
        unit_id=unit.id,
        item_version_id=version_id,
        kind=TaskKind.COMPLAINT,
        planned_date=dt.date.today(),
        status=TaskStatus.PLANNED,
        origin_note="举报投诉",
    )
    db.session.add(task)
    db.session.flush()
    for slot, insp in enumerate(people):
        db.session.add(
            TaskAssignment(
                task_id=task.id,
                slot=slot,
                dept=(depts or ["fire"] * len(people))[slot],
                role="lead" if slot == 0 else "assist",
                inspector_id=insp.id,
                active=True,
            )
        )
    db.session.flush()
    return task


@pytest.fixture
def scene(db) -> Scene:
    org = make_org()
    other_org = make_org()
    item = make_item(org, points=["消防安全责任制落实情况", "消防设施器材完好有效", "疏散通道畅通"])
    version = db.session.execute(select(ItemVersion).where(ItemVersion.item_id == item.id)).scalar_one()
    lead = make_user(org, role=Role.INSPECTOR, username="lead")
    partner = make_user(org, role=Role.INSPECTOR, username="partner")
    other = make_user(org, role=Role.INSPECTOR, username="other")
    make_inspector(org, name="李卫国", user=lead, cert_no="豫消A0001")
    p2 = make_inspector(org, name="赵志刚", user=partner, cert_no="豫消A0002")
    make_inspector(org, name="钱多多", user=other)
    l1 = db.session.execute(select(User).where(User.username == "lead")).scalar_one()
    me = l1.id
    from webapp.registry.models import Inspector

    lead_insp = db.session.execute(select(Inspector).where(Inspector.user_id == me)).scalar_one()
    unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", contact_phone="13800138000")
    task = make_task(db, org, unit, version.id, [lead_insp, p2])
    supervisor = make_user(org, role=Role.SUPERVISOR, username="boss")
    other_supervisor = make_user(other_org, role=Role.SUPERVISOR, username="otherboss")
    db.session.commit()
    pts = list(
        db.session.execute(
            select(ChecklistPoint).where(ChecklistPoint.item_version_id == version.id).order_by(ChecklistPoint.seq)
        ).scalars()
    )
    return Scene(task, lead, partner, other, supervisor, other_supervisor, pts)


def new_uuid() -> str:
    return str(uuid.uuid4())


def signature_strokes() -> str:
    """A handwritten-like zig-zag on a 340 x 200 pad: enough points and ink to pass the checks."""
    import json

    points = [{"x": 30 + i * 5, "y": 60 + (i % 6) * 15, "time": 1000 + i * 16, "pressure": 0.5} for i in range(50)]
    return json.dumps([{"penColor": "black", "points": points}])


def sign_all(client, task, slots: list[str]) -> None:
    """Every signer of the record signs (``slots``: "unit" and "inspector:<id>" keys)."""
    for key in slots:
        data = {"signer": key, "strokes": signature_strokes(), "width": "340", "height": "200"}
        if key == "unit":
            data["signer_name"] = "王小明"
        resp = client.post(f"/inspections/tasks/{task.public_id}/signatures", data=data)
        assert resp.status_code == 200, resp.get_data(as_text=True)


def signer_keys(task) -> list[str]:
    return ["unit", *[f"inspector:{a.inspector_id}" for a in task.active_assignments]]
