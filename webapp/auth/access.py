"""Every object-level access rule, one named function each: used by views, services, templates and the menu.

Route guards (who may open a URL at all) are in :mod:`webapp.auth.permissions`; the rules here decide which
objects a user may see or act on once there. A view answers 404 (never 403) when a rule refuses, so the
existence of other organisations' records is not disclosed.

The rules, in words:

- **Organisations.** A supervisor or inspector manages their own organisation and everything below it
  (:func:`visible_org_ids`); an administrator manages all of them.
- **Case content is for the people on the case.** Unpublished draws and their tasks, inspection records with
  their media (photos, signatures) and rectification orders are seen by the *supervisors* of the owning
  organisation (or above it) and by the *inspectors assigned* to the task (for an order: to its task or its
  复查 task). Administrators keep the system (organisations, users, items, calendar, registers) and see no
  case content: an admin gets 404 on a task, a record's photo or signature, or an order, exactly as on an
  unpublished draw. Once a draw is published (or abandoned) its tasks are public (一公开).
- **Acting on a case** is for the assigned inspectors: working on the record, issuing an order on it,
  recording a 复查 outcome. Supervisors run the draws of their organisations.
- **Jobs.** An export job is seen only by the user who started it; an import job by the supervisors and
  admins who manage its organisation.
- **Audit events** are seen by the supervisors and admins who manage the event's organisation (admins: all;
  events without an organisation only by admins).
- **The menu** follows the same lines: :func:`can_supervise_cases` (draws, orders, dashboard, 公示,
  numbering), :func:`can_keep_registers` (两库一单, data quality, audit log), :func:`can_administer`
  (organisations, users, calendar), :func:`has_task_list` (我的任务).
- **Offline devices.** A supervisor sees the device reports of the inspectors of their organisation subtree and
  may import an outbox file one of them exported (:func:`supervises_inspector`); a device's own reports and
  ledger rows are its user's.

This module sits in ``auth``, below the packages whose objects it judges: it reads their attributes and
relationships only (``task.active_assignments``, ``assignment.inspector.user_id``, ``draw.is_public`` …) and
imports their types for the type checker alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

from flask import abort
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from webapp.auth.models import Organisation, Role, User
from webapp.extensions import db

if TYPE_CHECKING:
    from webapp.audit import AuditEvent
    from webapp.dashboard.models import ExportJob
    from webapp.draw.models import Draw, Plan
    from webapp.inspections.models import Inspection
    from webapp.rectification.models import RectificationOrder
    from webapp.registry.models import ImportJob, Inspector
    from webapp.tasks.models import Task

Who: TypeAlias = User | AnonymousUserMixin | None


def signed_in(user: Who) -> User | None:
    """The user if logged in (and active), else None (anonymous visitors, ``None``)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user if isinstance(user, User) else None


# ------------------------------------------------------------------------------------------ organisations


def org_subtree_ids(root_ids: Iterable[int]) -> set[int]:
    """Ids of the given organisations and all their descendants."""
    result: set[int] = set()
    frontier = set(root_ids)
    while frontier:
        result |= frontier
        frontier = (
            set(db.session.execute(select(Organisation.id).where(Organisation.parent_id.in_(frontier))).scalars())
            - result
        )
    return result


def visible_org_ids(user: User) -> set[int] | None:
    """Organisations whose records ``user`` may manage; ``None`` means all (admin)."""
    if user.role == Role.ADMIN:
        return None
    return org_subtree_ids([user.org_id])


def can_manage_org(user: Who, org_id: int | None) -> bool:
    """``org_id`` is the user's organisation or below it (admins: any)."""
    me = signed_in(user)
    if me is None:
        return False
    ids = visible_org_ids(me)
    return ids is None or org_id in ids


def require_org(user: Who, org_id: int | None) -> None:
    """404 (not 403) for records of other organisations: their existence is not disclosed."""
    if not can_manage_org(user, org_id):
        abort(404)


def is_supervisor_of(user: Who, org_id: int | None) -> bool:
    """A supervisor of ``org_id`` or of an organisation above it (admins are not supervisors)."""
    me = signed_in(user)
    return me is not None and me.role == Role.SUPERVISOR and can_manage_org(me, org_id)


# -------------------------------------------------------------------------------------- draws and tasks


def inspector_of(user: Who) -> Inspector | None:
    """The inspector-library entry of a logged-in user (None for anonymous users and most supervisors)."""
    me = signed_in(user)
    return me.inspector if me is not None else None


def can_manage_draws(user: Who, org_id: int | None) -> bool:
    """Supervisors of the drawing organisation (or above it) run and see its plans and unpublished draws."""
    return is_supervisor_of(user, org_id)


def can_manage_plan(user: Who, plan: Plan) -> bool:
    return can_manage_draws(user, plan.org_id)


def can_manage_draw(user: Who, draw: Draw) -> bool:
    """The draw's supervisors (its ceremony, bundle and replacements), whether published or not."""
    return can_manage_draws(user, draw.org_id)


def is_assigned(user: Who, task: Task | None) -> bool:
    """``user`` is an inspector actively assigned to ``task``."""
    me = signed_in(user)
    if me is None or task is None:
        return False
    return any(a.inspector.user_id == me.id for a in task.active_assignments)


def task_org_id(task: Task) -> int:
    """The organisation whose supervisors manage the task: the draw's for drawn tasks, else the task's own."""
    return task.draw.org_id if task.draw is not None else task.org_id


def can_manage_task(user: Who, task: Task) -> bool:
    """Supervisors of the task's organisation: replacements, the full assignment history."""
    return can_manage_draws(user, task_org_id(task))


def can_view_task(user: Who, task: Task) -> bool:
    """Anyone once the task's draw is public; before that its supervisors and the inspectors assigned."""
    if task.draw is not None and task.draw.is_public:
        return True
    return can_manage_task(user, task) or is_assigned(user, task)


def can_work_on_task(user: Who, task: Task) -> bool:
    """The record on the phone (check-in, checklist, findings, photos, signatures) is the assigned inspectors'."""
    return is_assigned(user, task)


# --------------------------------------------------------------------------------- records and their media


def can_view_record(user: Who, inspection: Inspection) -> bool:
    """An inspection record: the inspectors assigned to its task and the supervisors of its organisation."""
    return is_assigned(user, inspection.task) or is_supervisor_of(user, inspection.org_id)


def can_view_record_media(user: Who, inspection: Inspection) -> bool:
    """Photos and signatures of a record: exactly who may see the record (not admins)."""
    return can_view_record(user, inspection)


# ----------------------------------------------------------------------------------- rectification orders


def _order_tasks(order: RectificationOrder) -> list[Task]:
    return [order.task] + ([order.reinspection_task] if order.reinspection_task is not None else [])


def can_view_order(user: Who, order: RectificationOrder) -> bool:
    """Supervisors of the issuing organisation (or above it) and the inspectors assigned to its task or 复查."""
    if is_supervisor_of(user, order.org_id):
        return True
    return any(is_assigned(user, t) for t in _order_tasks(order))


def can_issue_order(user: Who, inspection: Inspection) -> bool:
    """Only the inspectors assigned to the inspection's task issue its orders."""
    return is_assigned(user, inspection.task)


def can_record_outcome(user: Who, order: RectificationOrder) -> bool:
    """The inspectors of the 复查 task (or of the original task) record whether the problems were put right."""
    return any(is_assigned(user, t) for t in _order_tasks(order))


# ---------------------------------------------------------------------------------------------- jobs


def can_view_export(user: Who, job: ExportJob) -> bool:
    """An export job (and its file) is seen only by the user who started it."""
    me = signed_in(user)
    return me is not None and job.created_by_id == me.id


def can_view_import(user: Who, job: ImportJob) -> bool:
    """An import job is seen by the register keepers (supervisors, admins) who manage its organisation."""
    return can_keep_registers(user) and can_manage_org(user, job.org_id)


# ------------------------------------------------------------------------------------- offline devices


def supervises_inspector(user: Who, other: User | None) -> bool:
    """A supervisor oversees the inspectors of their organisation subtree: sees their devices' reports on the
    工作台 and may import an outbox one of them exported (applied as that inspector)."""
    me = signed_in(user)
    if me is None or other is None or not can_supervise_cases(me) or other.role != Role.INSPECTOR:
        return False
    return can_manage_org(me, other.org_id)


# -------------------------------------------------------------------------------------------- audit log


def can_view_audit_event(user: Who, event: AuditEvent) -> bool:
    """Register keepers see the events of their organisation subtree; admins all (those without an organisation
    too). The audit log page applies the same rule in SQL through :func:`visible_org_ids`."""
    me = signed_in(user)
    if me is None or not can_keep_registers(me):
        return False
    ids = visible_org_ids(me)
    return ids is None or (event.org_id is not None and event.org_id in ids)


# ------------------------------------------------------------------------------------------------ menu


def has_task_list(user: Who) -> bool:
    """我的任务 instead of the 工作台: inspectors."""
    me = signed_in(user)
    return me is not None and me.role == Role.INSPECTOR


def can_supervise_cases(user: Who) -> bool:
    """Case work (draws, orders, dashboard, 公示, order numbering): supervisors."""
    me = signed_in(user)
    return me is not None and me.role == Role.SUPERVISOR


def can_keep_registers(user: Who) -> bool:
    """两库一单, data quality and the audit log: supervisors and admins."""
    me = signed_in(user)
    return me is not None and me.role in (Role.SUPERVISOR, Role.ADMIN)


def can_administer(user: Who) -> bool:
    """Organisations, users and the working-day calendar: admins."""
    me = signed_in(user)
    return me is not None and me.role == Role.ADMIN


def jinja_globals() -> dict[str, Callable[..., Any]]:
    """The rules templates use (registered by ``create_app``)."""
    return {
        fn.__name__: fn
        for fn in (
            has_task_list,
            can_supervise_cases,
            can_keep_registers,
            can_administer,
            can_view_task,
            can_manage_task,
            can_view_record,
            can_view_order,
            can_issue_order,
            can_record_outcome,
        )
    }
