"""The own/other-object matrix: every rule of ``webapp.auth.access``, per role, on the user's own object and on
another organisation's or another inspector's (the route × role matrix is tests/test_permissions.py).

The people: a 支队 above two 大队 A and B. ``supervisor`` leads A, ``supervisor_above`` the 支队 (so A and B are
below them), ``other_supervisor`` leads B; ``inspector`` is assigned to A's task, ``other_inspector`` works in A
but is not on it; ``admin`` keeps the system and sees no case content; ``anonymous`` is not logged in.
"own" objects belong to A (and to ``inspector``'s task), "other" objects to B (and B's inspector).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask_login import AnonymousUserMixin

from tests.factories import (
    make_inspection,
    make_inspector,
    make_item,
    make_org,
    make_task,
    make_unit,
    make_user,
)
from tests.helpers import DEMO_PASSWORD
from webapp import audit
from webapp.auth import access
from webapp.auth.models import OrgKind, Role
from webapp.dashboard.models import ExportJob
from webapp.db import utcnow
from webapp.draw.models import Draw, DrawStatus, Plan
from webapp.rectification.models import OrderKind, RectificationOrder
from webapp.registry.models import ImportJob

PEOPLE = ("admin", "supervisor", "supervisor_above", "other_supervisor", "inspector", "other_inspector", "anonymous")
DAY = dt.date(2026, 11, 16)


@dataclass
class Scene:
    people: dict[str, Any]
    objects: dict[str, Any]


def _draw(org, item, status: DrawStatus) -> Draw:
    from webapp.extensions import db

    plan = Plan(org_id=org.id, item_id=item.id, year=DAY.year, name="日常监督抽查")
    db.session.add(plan)
    db.session.flush()
    draw = Draw(
        plan_id=plan.id,
        org_id=org.id,
        item_version_id=item.current.id,
        period=f"{DAY.year}-{DAY.month:02d}",
        status=status,
        pool={},
        pool_hash="0" * 64,
        commitment="0" * 64,
        server_secret="0" * 64,
        committed_at=utcnow(),
    )
    db.session.add(draw)
    db.session.flush()
    return draw


def _order(inspection, seq: int, reinspection_task=None) -> RectificationOrder:
    from webapp.extensions import db

    order = RectificationOrder(
        org_id=inspection.org_id,
        inspection_id=inspection.id,
        task_id=inspection.task_id,
        unit_id=inspection.task.unit_id,
        kind=OrderKind.DEADLINE,
        number=f"测消限字〔{DAY.year}〕第{seq}号",
        year=DAY.year,
        seq=seq,
        problems=[{"text": "疏散通道堵塞", "basis": ""}],
        issued_at=utcnow(),
        issued_on=DAY,
        deadline=DAY + dt.timedelta(days=10),
        reinspection_task_id=reinspection_task.id if reinspection_task is not None else None,
    )
    db.session.add(order)
    db.session.flush()
    return order


@pytest.fixture
def scene(db) -> Scene:
    zhidui = make_org(kind=OrgKind.ZHIDUI)
    org_a = make_org(parent=zhidui)
    org_b = make_org(parent=zhidui)
    people: dict[str, Any] = {
        "admin": make_user(zhidui, Role.ADMIN),
        "supervisor": make_user(org_a, Role.SUPERVISOR),
        "supervisor_above": make_user(zhidui, Role.SUPERVISOR),
        "other_supervisor": make_user(org_b, Role.SUPERVISOR),
        "inspector": make_user(org_a, Role.INSPECTOR),
        "other_inspector": make_user(org_a, Role.INSPECTOR),
        "anonymous": AnonymousUserMixin(),
    }
    mine = make_inspector(org_a, user=people["inspector"])
    make_inspector(org_a, user=people["other_inspector"])
    their_user = make_user(org_b, Role.INSPECTOR)
    theirs = make_inspector(org_b, user=their_user)
    item = make_item(zhidui)
    version = item.current.id
    secret = _draw(org_a, item, DrawStatus.DRAWN)
    published = _draw(org_a, item, DrawStatus.PUBLISHED)
    own_task = make_task(org_a, make_unit(org_a), version, DAY, people=[(mine, True)], draw_id=secret.id)
    other_task = make_task(org_b, make_unit(org_b), version, DAY, people=[(theirs, True)])
    public_task = make_task(org_a, make_unit(org_a), version, DAY, people=[(mine, True)], draw_id=published.id)
    own_record = make_inspection(own_task, submitted_at=utcnow())
    other_record = make_inspection(other_task, submitted_at=utcnow())
    objects = {
        "own_draw": secret,
        "own_task": own_task,
        "other_task": other_task,
        "public_task": public_task,
        "own_record": own_record,
        "other_record": other_record,
        "own_order": _order(own_record, 1),
        "other_order": _order(other_record, 2),
        "own_export": ExportJob(kind="tasks", created_by_id=people["supervisor"].id),
        "own_import": ImportJob(kind="units", org_id=org_a.id, filename="units.xlsx"),
        "other_import": ImportJob(kind="units", org_id=org_b.id, filename="units.xlsx"),
        "own_inspector_user": people["inspector"],
        "other_inspector_user": their_user,
        "own_supervisor_user": people["supervisor"],
        "own_event": audit.record(people["supervisor"], "unit.updated", ("unit", "1"), {}, org_id=org_a.id),
        "other_event": audit.record(people["other_supervisor"], "unit.updated", ("unit", "2"), {}, org_id=org_b.id),
        "system_event": audit.record(None, "calendar.override_set", ("calendar_override", "2026-10-01"), {}),
    }
    db.session.commit()
    return Scene(people, objects)


def who(*names: str) -> set[str]:
    assert set(names) <= set(PEOPLE), names
    return set(names)


SUPERVISORS_OF_A = who("supervisor", "supervisor_above")
SUPERVISORS_OF_B = who("other_supervisor", "supervisor_above")
# rule, object, the people it allows (everyone else is refused)
MATRIX: list[tuple[str, str, set[str]]] = [
    # draws and tasks: confidential until published, then public
    ("can_manage_draw", "own_draw", SUPERVISORS_OF_A),
    ("can_view_task", "own_task", SUPERVISORS_OF_A | who("inspector")),
    ("can_view_task", "other_task", SUPERVISORS_OF_B),
    ("can_view_task", "public_task", set(PEOPLE)),
    ("can_manage_task", "own_task", SUPERVISORS_OF_A),
    ("can_manage_task", "other_task", SUPERVISORS_OF_B),
    ("can_work_on_task", "own_task", who("inspector")),
    ("can_work_on_task", "other_task", set()),
    # the record and its photos and signatures: the same people as the task, admins not
    ("can_view_record", "own_record", SUPERVISORS_OF_A | who("inspector")),
    ("can_view_record", "other_record", SUPERVISORS_OF_B),
    ("can_view_record_media", "own_record", SUPERVISORS_OF_A | who("inspector")),
    ("can_view_record_media", "other_record", SUPERVISORS_OF_B),
    # orders
    ("can_view_order", "own_order", SUPERVISORS_OF_A | who("inspector")),
    ("can_view_order", "other_order", SUPERVISORS_OF_B),
    ("can_issue_order", "own_record", who("inspector")),
    ("can_issue_order", "other_record", set()),
    ("can_record_outcome", "own_order", who("inspector")),
    ("can_record_outcome", "other_order", set()),
    # jobs
    ("can_view_export", "own_export", who("supervisor")),
    ("can_view_import", "own_import", SUPERVISORS_OF_A | who("admin")),
    ("can_view_import", "other_import", who("supervisor_above", "other_supervisor", "admin")),
    # offline devices: their reports on the 工作台 and the outbox import (supervisors, not admins)
    ("supervises_inspector", "own_inspector_user", SUPERVISORS_OF_A),
    ("supervises_inspector", "other_inspector_user", SUPERVISORS_OF_B),
    ("supervises_inspector", "own_supervisor_user", set()),
    # the audit log
    ("can_view_audit_event", "own_event", SUPERVISORS_OF_A | who("admin")),
    ("can_view_audit_event", "other_event", who("supervisor_above", "other_supervisor", "admin")),
    ("can_view_audit_event", "system_event", who("admin")),
]


@pytest.mark.parametrize(("rule", "obj", "allowed"), MATRIX, ids=[f"{r}-{o}" for r, o, _ in MATRIX])
def test_rule_allows_exactly_these_people(scene, rule, obj, allowed):
    check = getattr(access, rule)
    got = {name for name, user in scene.people.items() if check(user, scene.objects[obj])}
    assert got == allowed


def test_organisation_scope(scene):
    org_a = scene.objects["own_task"].org_id
    org_b = scene.objects["other_task"].org_id
    p = scene.people
    assert access.visible_org_ids(p["admin"]) is None
    assert access.visible_org_ids(p["supervisor"]) == {org_a}
    assert access.visible_org_ids(p["supervisor_above"]) >= {org_a, org_b}
    allowed = {name for name, user in p.items() if access.can_manage_org(user, org_a)}
    assert allowed == who("admin", "supervisor", "supervisor_above", "inspector", "other_inspector")
    assert not access.can_manage_org(p["other_supervisor"], org_a)


def test_the_reinspection_inspector_sees_the_order_and_records_its_outcome(scene, db):
    order = scene.objects["own_order"]
    colleague = scene.people["other_inspector"]
    assert not access.can_view_order(colleague, order)
    reinspection = make_task(
        order.org,
        order.unit,
        order.task.item_version_id,
        DAY + dt.timedelta(days=11),
        people=[(colleague.inspector, True)],
    )
    order.reinspection_task_id = reinspection.id
    db.session.commit()
    assert access.can_view_order(colleague, order) and access.can_record_outcome(colleague, order)
    assert access.can_view_order(scene.people["inspector"], order)  # the original task's inspector still does


def test_an_ended_assignment_no_longer_counts(scene, db):
    task = scene.objects["own_task"]
    inspector = scene.people["inspector"]
    (assignment,) = task.active_assignments
    assignment.active = False
    db.session.commit()
    assert not access.can_view_task(inspector, task)
    assert not access.can_view_record(inspector, scene.objects["own_record"])
    assert not access.can_view_order(inspector, scene.objects["own_order"])


MENU = {
    "我的任务": who("inspector", "other_inspector"),
    "工作台": who("admin", "supervisor", "supervisor_above", "other_supervisor"),
    "双随机抽取": who("supervisor", "supervisor_above", "other_supervisor"),
    "整改文书": who("supervisor", "supervisor_above", "other_supervisor"),
    "检查对象名录库": who("admin", "supervisor", "supervisor_above", "other_supervisor"),
    "机构与用户": who("admin"),
    "工作日历": who("admin"),
}


def test_the_menu_follows_the_rules(scene, app):
    from flask import g

    for name, user in scene.people.items():
        if name == "anonymous":
            continue
        g.pop("_login_user", None)  # requests share the test's app context: load each user from their own cookie
        client = app.test_client()
        assert client.post("/login", data={"username": user.username, "password": DEMO_PASSWORD}).status_code == 302
        page = client.get("/account/password").get_data(as_text=True)
        menu = page[page.index("<nav>") : page.index("</nav>")]
        for label, allowed in MENU.items():
            assert (f">{label}<" in menu) == (name in allowed), (name, label)
