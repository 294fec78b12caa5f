"""The one place for test data: model factories and the scenario builders the fixtures wrap.

Factories (``make_*``) make one valid record with sensible defaults and flush it. Scenario builders
(``build_*`` and the small ``add_*``/``run_draw`` steps) put together the worlds several tests share; they
are plain functions, so a test can call one directly and a conftest wraps one in a fixture.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from tests.helpers import DEMO_PASSWORD, next_period
from webapp import calendar
from webapp.auth.models import Organisation, OrgKind, Role, User
from webapp.catalog.models import ChecklistPoint, Item, ItemVersion
from webapp.db import utcnow
from webapp.draw import services as draw_services
from webapp.draw.models import Draw, Plan
from webapp.extensions import db
from webapp.inspections.models import CheckResult, Finding, Inspection, InspectionStatus, PublishedCategory
from webapp.rectification.models import FollowUp, FollowUpKind, OrderKind, OrderStatus, RectificationOrder
from webapp.registry.models import Inspector, Unit, UnitClass
from webapp.registry.validation import generate_uscc
from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus

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


def make_task(
    org: Organisation,
    unit: Unit,
    version_id: int,
    day: dt.date | None = None,
    status: TaskStatus | None = None,
    people: Iterable[Inspector | tuple[Inspector, bool]] = (),
    kind: TaskKind | None = None,
    depts: Sequence[str] | None = None,
    **kw,
) -> Task:
    """A task planned on ``day`` (default today) with its assignments; slot 0 leads.

    ``people`` lists inspectors or ``(inspector, active)`` pairs; ``depts`` gives each slot's department
    (default "fire"). Further keywords are Task columns (``draw_id``, ``origin_note`` …).
    """
    task = Task(
        org_id=org.id,
        unit_id=unit.id,
        item_version_id=version_id,
        kind=kind or TaskKind.ROUTINE,
        planned_date=day or calendar.today(),
        status=status or TaskStatus.PLANNED,
        **kw,
    )
    db.session.add(task)
    db.session.flush()
    for slot, person in enumerate(people):
        insp, active = person if isinstance(person, tuple) else (person, True)
        db.session.add(
            TaskAssignment(
                task_id=task.id,
                slot=slot,
                dept=depts[slot] if depts else "fire",
                role="lead" if slot == 0 else "assist",
                inspector_id=insp.id,
                active=active,
            )
        )
    db.session.flush()
    return task


def make_inspection(
    task: Task,
    submitted_at: dt.datetime | None = None,
    category: PublishedCategory | None = None,
    supersedes: Inspection | None = None,
    *,
    result: CheckResult | None = None,
    checkin_at: dt.datetime | None = None,
    published_at: dt.datetime | None = None,
    findings: Iterable[str] = (),
) -> Inspection:
    """An inspection record of ``task``: submitted when ``submitted_at`` is given, else a draft.

    ``findings`` are the texts of its problems (发现问题), numbered from 1.
    """
    ins = Inspection(
        client_uuid=str(uuid.uuid4()),
        task_id=task.id,
        org_id=task.org_id,
        status=InspectionStatus.SUBMITTED if submitted_at else InspectionStatus.DRAFT,
        submitted_at=submitted_at,
        category=category,
        result=result,
        checkin_at=checkin_at,
        published_at=published_at,
        supersedes_id=supersedes.id if supersedes else None,
    )
    db.session.add(ins)
    db.session.flush()
    for seq, text in enumerate(findings, start=1):
        db.session.add(Finding(inspection_id=ins.id, seq=seq, text=text))
    db.session.flush()
    return ins


def record_for_order(task: Task) -> Inspection:
    """A record of ``task`` submitted now whose result (责令限期改正) calls for a rectification order."""
    return make_inspection(task, utcnow(), PublishedCategory.ORDERED_RECTIFY, result=CheckResult.DEADLINE)


# ------------------------------------------------------------------------------------ the organisation tree


@dataclass
class Tree:
    zongdui: Organisation
    zhidui: Organisation
    dadui: Organisation
    market: Organisation


def build_org_tree() -> Tree:
    """总队 > 支队 > 大队, and a market-supervision department beside them (committed)."""
    zongdui = make_org(code="ha", name="河南省消防救援总队", kind=OrgKind.ZONGDUI)
    zhidui = make_org(code="ly", name="洛阳市消防救援支队", kind=OrgKind.ZHIDUI, parent=zongdui)
    dadui = make_org(code="ly-yanshi", name="洛阳市偃师区消防救援大队", kind=OrgKind.DADUI, parent=zhidui)
    market = make_org(code="ys-market", name="洛阳市偃师区市场监督管理局", kind=OrgKind.DEPARTMENT, dept="market")
    db.session.commit()
    return Tree(zongdui, zhidui, dadui, market)


# ------------------------------------------------------------------------------- the on-site scene


@dataclass
class Scene:
    task: Task
    lead: User
    partner: User
    other: User
    supervisor: User
    other_supervisor: User
    points: list[ChecklistPoint]


def build_scene() -> Scene:
    """A complaint task with two assigned inspectors (users "lead" and "partner"), a third inspector ("other"),
    and the supervisors of its organisation ("boss") and of another ("otherboss"); committed."""
    org = make_org()
    other_org = make_org()
    item = make_item(org, points=["消防安全责任制落实情况", "消防设施器材完好有效", "疏散通道畅通"])
    version = item.current
    lead = make_user(org, role=Role.INSPECTOR, username="lead")
    partner = make_user(org, role=Role.INSPECTOR, username="partner")
    other = make_user(org, role=Role.INSPECTOR, username="other")
    lead_insp = make_inspector(org, name="李卫国", user=lead, cert_no="豫消A0001")
    partner_insp = make_inspector(org, name="赵志刚", user=partner, cert_no="豫消A0002")
    make_inspector(org, name="钱多多", user=other)
    unit = make_unit(org, name="洛阳好运来超市", address="偃师区商都路18号", contact_phone="13800138000")
    task = make_task(
        org, unit, version.id, people=[lead_insp, partner_insp], kind=TaskKind.COMPLAINT, origin_note="举报投诉"
    )
    supervisor = make_user(org, role=Role.SUPERVISOR, username="boss")
    other_supervisor = make_user(other_org, role=Role.SUPERVISOR, username="otherboss")
    db.session.commit()
    points = list(
        db.session.execute(
            select(ChecklistPoint).where(ChecklistPoint.item_version_id == version.id).order_by(ChecklistPoint.seq)
        ).scalars()
    )
    return Scene(task, lead, partner, other, supervisor, other_supervisor, points)


# ---------------------------------------------------------------------------- a record to order on


@dataclass
class OrderWorld:
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


def build_order_world() -> OrderWorld:
    """An organisation, a unit, a task with two inspectors and its submitted record that calls for an order."""
    org = make_org(code="yanshi", name="偃师区消防救援大队")
    org.short_name = "偃师大队"
    other = make_org(code="other", name="另一个大队")
    item = make_item(org)
    unit = make_unit(org, name="偃师测试商贸有限公司", safety_person="张三", contact_phone="13812341188")
    lead_user = make_user(org, Role.INSPECTOR)
    partner_user = make_user(org, Role.INSPECTOR)
    lead = make_inspector(org, name="王小锋", user=lead_user)
    partner = make_inspector(org, name="李四", user=partner_user)
    task = make_task(org, unit, item.current.id, dt.date(2026, 11, 20), people=[lead, partner])
    inspection = record_for_order(task)
    supervisor = make_user(org, Role.SUPERVISOR)
    db.session.commit()
    return OrderWorld(org, unit, task, inspection, supervisor, lead_user, partner_user, lead, partner, other)


# ----------------------------------------------------------------------- the public site: draws


PUBLIC_INSPECTOR_NAMES = ["王小锋", "李明", "欧阳春雨", "张伟东", "赵敏", "孙立新"]
WITNESS_NAME = "陈见证"
PHONE = "13812341188"


@dataclass
class PublicWorld:
    org: Organisation
    item: Item
    supervisor: User
    plan: Plan
    unit_names: list[str]


def build_public_world() -> PublicWorld:
    """A 大队 with seven units, six inspectors (all with PHONE) and next period's year plan (committed)."""
    org = make_org(code="pub-1", name="偃师区消防救援大队")
    supervisor = make_user(org, Role.SUPERVISOR)
    item = make_item(org, code="fire-duty")
    units = [make_unit(org, name=f"偃师区公开测试商场{i}号", unit_class=UnitClass.KEY, crowded=True) for i in range(3)]
    units += [make_unit(org, name=f"偃师区公开测试五金店{i}号") for i in range(4)]
    for name in PUBLIC_INSPECTOR_NAMES:
        make_inspector(org, name=name, phone=PHONE)
    year = int(next_period()[:4])
    plan = draw_services.create_plan(supervisor, org=org, item=item, year=year)
    db.session.commit()
    return PublicWorld(org, item, supervisor, plan, [u.name for u in units])


def run_draw(world: PublicWorld, period: str | None = None, publish: bool = True) -> Draw:
    """A real draw of ``world``'s plan through the ceremony services: commit, witness, perform (and publish)."""
    draw = draw_services.commit(world.supervisor, world.plan, period or next_period(), early_reason="测试：提前抽取")
    db.session.commit()
    draw_services.add_witness(world.supervisor, draw, WITNESS_NAME, "廉政监督员", "31415926535897932384")
    db.session.commit()
    draw_services.perform(world.supervisor, draw)
    db.session.commit()
    if publish:
        draw_services.publish(world.supervisor, draw)
        db.session.commit()
    return draw


# --------------------------------------------------------------------- the public site: results


USCC = "91410381MA44XXXX1Q"
NOW = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)


def manual_task(org: Organisation, unit: Unit, item: Item, inspectors: Sequence[Inspector]) -> Task:
    """A complaint task on NOW's day; every inspector is a lead."""
    task = make_task(org, unit, item.current.id, NOW.date(), kind=TaskKind.COMPLAINT)
    for slot, insp in enumerate(inspectors):
        db.session.add(TaskAssignment(task_id=task.id, slot=slot, dept="fire", role="lead", inspector_id=insp.id))
    db.session.flush()
    return task


def add_inspection(
    task: Task, category: PublishedCategory = PublishedCategory.ORDERED_RECTIFY, submitted=True, findings=()
) -> Inspection:
    """A record checked at NOW and, when ``submitted``, submitted and published then (no 公示前审核)."""
    at = NOW if submitted else None
    return make_inspection(task, at, category, checkin_at=NOW, published_at=at, findings=findings)


def add_order(
    ins: Inspection, unit: Unit, status: OrderStatus = OrderStatus.PENDING, number: str = "偃消限字〔2026〕第0001号"
) -> RectificationOrder:
    """A 限期改正 order on ``ins`` issued at NOW (one problem, seven days)."""
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
    unit: Unit
    other_unit: Unit
    public: Inspection
    org: Organisation
    item: Item


def build_results() -> Results:
    """Two published results: one with problems, an overdue order and a penalty; one without problems."""
    org = make_org(code="res-1", name="偃师区消防救援大队")
    item = make_item(org, code="fire-duty-r")
    unit = make_unit(
        org, name="偃师公开结果商贸有限公司", uscc=USCC, safety_person="赵建华", contact_phone="13812341188"
    )
    other_unit = make_unit(org, name="偃师另一家五金店")
    lead, partner = make_inspector(org, name="王小锋"), make_inspector(org, name="李四海")
    ins = add_inspection(
        manual_task(org, unit, item, [lead, partner]),
        findings=["疏散通道堆放杂物，安全管理人赵建华（13812341188）称由王小锋同意", "灭火器压力不足"],
    )
    order = add_order(ins, unit, status=OrderStatus.NOT_RECTIFIED)
    db.session.add(
        FollowUp(
            order_id=order.id,
            kind=FollowUpKind.PENALTY,
            decision_number="偃消行罚决字〔2026〕0012号",
            decision_date=dt.date(2026, 12, 3),
            published_at=NOW,
        )
    )
    add_inspection(manual_task(org, other_unit, item, [lead]), category=PublishedCategory.NO_PROBLEM)
    db.session.commit()
    return Results(unit, other_unit, ins, org, item)


def known_years(*extra: int) -> None:
    """This year, the next and ``extra`` have a known calendar (DRAW_SPEC section 4): those the holiday library
    does not know are confirmed as an administrator would (committed). Draw tests call it first."""
    from webapp import calendar
    from webapp.admin import services as admin_services

    this = calendar.today().year
    for year in sorted({this, this + 1, *extra}):
        if not calendar.year_known(year):
            admin_services.confirm_year(None, year, "测试：暂无放假安排")
    db.session.commit()
