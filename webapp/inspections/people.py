"""The people the database knows around a record or a draw, for masking them in public free text.

A finding, a notice's problem or a replacement reason may name anyone: the unit's legal representative,
safety person or contact, the contact of another unit of the organisation, the unit's signer, an inspector,
a user, a witness of a draw. :class:`People` loads these names by organisation, unit and task — never the
whole tables — and keeps them for the response it serves (make one per request), so a page of twenty results
of one organisation reads the organisation's names once. Read-only; everything returned is a
:class:`webapp.masking.Names` for ``masking.scrub``.
"""

from __future__ import annotations

from sqlalchemy import Select, select, union

from webapp.auth.models import User
from webapp.draw.models import Draw, DrawWitness
from webapp.extensions import db
from webapp.inspections.models import Inspection, Signature
from webapp.masking import Names
from webapp.registry.models import Inspector, Unit
from webapp.tasks.models import Task, TaskAssignment

_UNIT_PEOPLE = (Unit.legal_rep, Unit.safety_person, Unit.contact_name)


def _names(*queries: Select) -> Names:
    """The distinct non-empty names the one-column ``queries`` return, in one round trip."""
    return Names(n for n in db.session.execute(union(*queries)).scalars() if n)


class People:
    """Names by organisation, unit and task, each loaded once (one instance per request)."""

    def __init__(self) -> None:
        self._orgs: dict[int, Names] = {}
        self._units: dict[int, Names] = {}
        self._tasks: dict[int, Names] = {}
        self._records: dict[tuple[int, int, int], Names] = {}

    def of_org(self, org_id: int) -> Names:
        """The people of an organisation: its units' legal representatives, safety persons and contacts,
        its inspectors, its users and the witnesses of its draws."""
        if org_id not in self._orgs:
            units = db.session.execute(select(*_UNIT_PEOPLE).where(Unit.org_id == org_id))
            self._orgs[org_id] = Names(n for row in units for n in row if n) | _names(
                select(Inspector.name).where(Inspector.org_id == org_id),
                select(User.display_name).where(User.org_id == org_id),
                select(DrawWitness.name).join(Draw, Draw.id == DrawWitness.draw_id).where(Draw.org_id == org_id),
            )
        return self._orgs[org_id]

    def of_unit(self, unit_id: int) -> Names:
        """A unit's own people and everyone who signed one of its records (the unit's signers)."""
        if unit_id not in self._units:
            self._units[unit_id] = _names(
                *(select(col).where(Unit.id == unit_id) for col in _UNIT_PEOPLE),
                select(Signature.signer_name)
                .join(Inspection, Inspection.id == Signature.inspection_id)
                .join(Task, Task.id == Inspection.task_id)
                .where(Task.unit_id == unit_id),
            )
        return self._units[unit_id]

    def of_task(self, task_id: int) -> Names:
        """Everyone ever assigned to a task (also from another organisation) and the partners of its records."""
        if task_id not in self._tasks:
            self._tasks[task_id] = _names(
                select(Inspector.name)
                .join(TaskAssignment, TaskAssignment.inspector_id == Inspector.id)
                .where(TaskAssignment.task_id == task_id),
                select(Inspector.name)
                .join(Inspection, Inspection.partner_inspector_id == Inspector.id)
                .where(Inspection.task_id == task_id),
            )
        return self._tasks[task_id]

    def around(self, org_id: int, unit_id: int, task_id: int) -> Names:
        """Everyone a record (or an order) of this organisation, unit and task may name."""
        key = (org_id, unit_id, task_id)
        if key not in self._records:
            self._records[key] = self.of_org(org_id) | self.of_unit(unit_id) | self.of_task(task_id)
        return self._records[key]

    def of_draw(self, draw: Draw) -> Names:
        """Everyone a draw's reasons may name: its organisation's people, the inspectors ever on its tasks,
        the people of its units and its witnesses."""
        tasks = select(Task.id).where(Task.draw_id == draw.id)
        units = select(Task.unit_id).where(Task.draw_id == draw.id)
        return self.of_org(draw.org_id) | _names(
            select(Inspector.name)
            .join(TaskAssignment, TaskAssignment.inspector_id == Inspector.id)
            .where(TaskAssignment.task_id.in_(tasks)),
            *(select(col).where(Unit.id.in_(units)) for col in _UNIT_PEOPLE),
            select(DrawWitness.name).where(DrawWitness.draw_id == draw.id),
        )
