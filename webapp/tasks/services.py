"""Writes on tasks: the 复查 task of an order (asked for by ``webapp.rectification``) and the tasks made by hand
(举报投诉、转办交办, marked 非随机抽取). Drawn tasks are made by ``webapp.draw``.

Plain functions over the session; they flush (the caller needs ids) and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask_babel import gettext as _

from webapp import audit
from webapp.auth.models import User
from webapp.catalog.models import Item
from webapp.extensions import db
from webapp.registry.models import Inspector, Unit, UnitStatus
from webapp.tasks.models import MANUAL_KINDS, Task, TaskAssignment, TaskKind, TaskStatus
from webapp.web import ServiceError


def create_reinspection(actor: User | None, source: Task, planned_date: dt.date, origin_note: str) -> Task:
    """The 复查 task of ``source``: same unit, item version and organisation, for the same inspectors.

    ``source``'s active assignments are copied (slot, department, role, inspector); ``parent_task_id`` points
    to ``source``. The caller decides when a 复查 is due, audits it and links it to its order.
    """
    task = Task(
        org_id=source.org_id,
        unit_id=source.unit_id,
        item_version_id=source.item_version_id,
        kind=TaskKind.REINSPECTION,
        planned_date=planned_date,
        status=TaskStatus.PLANNED,
        parent_task_id=source.id,
        origin_note=origin_note,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(task)
    db.session.flush()
    for a in source.active_assignments:
        db.session.add(
            TaskAssignment(task_id=task.id, slot=a.slot, dept=a.dept, role=a.role, inspector_id=a.inspector_id)
        )
    db.session.flush()
    return task


# ------------------------------------------------------------------------------ complaint / referral


class TaskError(ServiceError):
    """A manual task that breaks a rule (Chinese message, form-level)."""


# The inspector-pool rule (``webapp.draw.pool.inspector_pool``), passed in by the caller: the pool is a draw
# rule and draw sits above tasks. (org ids, departments, first day, last day) → (in the pool, excluded).
InspectorPool = Callable[[set[int], list[str], dt.date, dt.date], tuple[list[dict], list[dict]]]


def create_manual_task(
    actor: User,
    *,
    unit: Unit,
    item: Item,
    kind: TaskKind,
    planned_date: dt.date,
    lead: Inspector,
    assist: Inspector,
    origin_note: str,
    pool: InspectorPool,
) -> Task:
    """A complaint/referral task (举报投诉、转办交办): created by hand, never drawn, and marked so.

    The two inspectors must be in the pool for the item on the planned date (valid certificate, active,
    available, of a department of the item), not conflicted with the unit (回避), the lead able to lead;
    a joint item needs one inspector of each of its departments.
    """
    note = (origin_note or "").strip()
    if kind not in MANUAL_KINDS:
        raise TaskError(_("只有举报投诉、转办交办任务可以手工创建"))
    if not note:
        raise TaskError(_("请填写任务来源（举报投诉或转办交办的来源、编号）"))
    if unit.status != UnitStatus.ACTIVE:
        raise TaskError(_("该单位已停业/注销或为僵尸单位，不能创建检查任务"))
    if not item.active:
        raise TaskError(_("该抽查事项已停用"))
    if lead.id == assist.id:
        raise TaskError(_("主办和协办不能是同一人"))
    depts = item.current.dept_list
    in_pool, _out = pool({lead.org_id, assist.org_id}, depts, planned_date, planned_date)
    by_id = {i["id"]: i for i in in_pool}
    entries = {}
    for who in (lead, assist):
        entry = by_id.get(who.public_id)
        if entry is None:
            raise TaskError(
                _("%(name)s 不在可抽取的执法检查人员范围内（执法证件、在岗状态或所属部门不符）", name=who.name)
            )
        if unit.public_id in entry["conflicts"]:
            raise TaskError(_("%(name)s 与该单位有利害关系，应当回避", name=who.name))
        if planned_date.isoformat() in entry["unavailable"]:
            raise TaskError(
                _("%(name)s 在%(day)s请假或借调，不能参加检查", name=who.name, day=planned_date.isoformat())
            )
        entries[who.id] = entry
    if not entries[lead.id]["can_lead"]:
        raise TaskError(_("%(name)s 不能担任主办", name=lead.name))
    if len(depts) > 1 and set(depts) - {entries[lead.id]["dept"], entries[assist.id]["dept"]}:
        raise TaskError(_("联合抽查事项需要各部门的检查人员"))
    task = Task(
        org_id=unit.org_id,
        unit_id=unit.id,
        item_version_id=item.current.id,
        draw_id=None,
        seq=None,
        kind=kind,
        planned_date=planned_date,
        origin_note=note,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(task)
    db.session.flush()
    for slot, (who, role) in enumerate(((lead, "lead"), (assist, "assist"))):
        db.session.add(
            TaskAssignment(task_id=task.id, slot=slot, dept=entries[who.id]["dept"], role=role, inspector_id=who.id)
        )
    db.session.flush()
    audit.record(
        actor,
        "task.created_manual",
        task,
        {
            "kind": kind.value,
            "unit": unit.public_id,
            "item": item.code,
            "planned_date": planned_date.isoformat(),
            "lead": lead.public_id,
            "assist": assist.public_id,
            "origin_note": note,
        },
        org_id=task.org_id,
    )
    return task
