"""Plain factory functions for tests: each makes a valid record with sensible defaults and flushes it."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from webapp.auth.models import Organisation, OrgKind, Role, User
from webapp.catalog.models import ChecklistPoint, Item, ItemVersion
from webapp.extensions import db
from webapp.registry.models import Inspector, Unit, UnitClass
from webapp.registry.validation import generate_uscc

DEMO_PASSWORD = "suijian-demo"
_seq = itertools.count(1)
_rng = random.Random(20261123)


def make_org(
    code: str | None = None,
    name: str | None = None,
    kind: OrgKind = OrgKind.DADUI,
    parent: Organisation | None = None,
    dept: str = "fire",
) -> Organisation:
    n = next(_seq)
    org = Organisation(
        code=code or f"org-{n}",
        name=name or f"测试大队{n}",
        kind=kind,
        dept=dept,
        parent_id=parent.id if parent else None,
    )
    db.session.add(org)
    db.session.flush()
    return org


def make_user(
    org: Organisation,
    role: Role = Role.SUPERVISOR,
    username: str | None = None,
    password: str = DEMO_PASSWORD,
    display_name: str | None = None,
) -> User:
    n = next(_seq)
    user = User(
        username=username or f"{role.value}{n}", display_name=display_name or f"用户{n}", role=role, org_id=org.id
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def make_unit(org: Organisation, name: str | None = None, **kw) -> Unit:
    n = next(_seq)
    defaults = {
        "name": name or f"测试单位{n}有限公司",
        "uscc": generate_uscc(_rng),
        "address": f"偃师区测试路{n}号",
        "unit_class": UnitClass.GENERAL,
        "safety_person": "张三",
        "region": "偃师区",
    }
    defaults.update(kw)
    unit = Unit(org_id=org.id, **defaults)
    db.session.add(unit)
    db.session.flush()
    return unit


def make_inspector(org: Organisation, name: str | None = None, user: User | None = None, **kw) -> Inspector:
    n = next(_seq)
    defaults = {
        "name": name or f"检查员{n}",
        "post": "专职消防监督员",
        "cert_no": f"豫{n:08d}",
        "cert_valid_until": dt.date.today() + dt.timedelta(days=365),
        "can_lead": True,
        "draw_weight": 150,
    }
    defaults.update(kw)
    insp = Inspector(org_id=org.id, user_id=user.id if user else None, **defaults)
    db.session.add(insp)
    db.session.flush()
    return insp


def make_item(
    org: Organisation,
    code: str | None = None,
    name: str = "对单位履行消防安全职责情况的日常监督抽查",
    departments: str = "fire",
    points: list[str] | None = None,
) -> Item:
    item = Item(code=code or f"item-{next(_seq)}", org_id=org.id)
    db.session.add(item)
    db.session.flush()
    version = ItemVersion(
        item_id=item.id,
        version=1,
        name=name,
        basis="《中华人民共和国消防法》、《消防监督检查规定》（公安部令第120号）",
        subject="区消防救援大队",
        target="机关、团体、企业、事业等单位",
        category="一般检查事项",
        methods="现场检查",
        ratio_frequency="消防安全重点单位100%",
        departments=departments,
    )
    db.session.add(version)
    db.session.flush()
    for i, text in enumerate(points or ["消防安全责任制落实情况", "消防设施器材完好有效"], start=1):
        db.session.add(ChecklistPoint(item_version_id=version.id, seq=i, dept="fire", text=text))
    db.session.flush()
    return item


def make_task(org, unit, version_id: int, day: dt.date, status=None, people=(), kind=None, **kw):
    """A task with assignments: ``people`` is ``[(inspector, active), …]``; slot 0 leads."""
    from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus

    task = Task(
        org_id=org.id,
        unit_id=unit.id,
        item_version_id=version_id,
        kind=kind or TaskKind.ROUTINE,
        planned_date=day,
        status=status or TaskStatus.PLANNED,
        **kw,
    )
    db.session.add(task)
    db.session.flush()
    for slot, (insp, active) in enumerate(people):
        db.session.add(
            TaskAssignment(
                task_id=task.id,
                slot=slot,
                dept="fire",
                role="lead" if slot == 0 else "assist",
                inspector_id=insp.id,
                active=active,
            )
        )
    db.session.flush()
    return task


def make_inspection(task, submitted_at: dt.datetime | None = None, category=None, supersedes=None):
    """An inspection record of ``task``: submitted when ``submitted_at`` is given, else a draft."""
    import uuid

    from webapp.inspections.models import Inspection, InspectionStatus

    ins = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=task.org_id,
        status=InspectionStatus.SUBMITTED if submitted_at else InspectionStatus.DRAFT,
        submitted_at=submitted_at,
        category=category,
        supersedes_id=supersedes.id if supersedes else None,
    )
    db.session.add(ins)
    db.session.flush()
    return ins
