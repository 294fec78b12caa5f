"""Imports every model module so that ``db.metadata`` is complete (Alembic, tests)."""

from webapp.admin.models import OrgCheckinSettings  # noqa: F401
from webapp.audit import AuditEvent  # noqa: F401
from webapp.auth.models import (
    User,  # noqa: F401
)
from webapp.calendar import CalendarOverride, CalendarYear  # noqa: F401
from webapp.catalog.models import ChecklistPoint, CommonProblem, CommonProblemUse, Item, ItemVersion  # noqa: F401
from webapp.dashboard.models import ExportJob  # noqa: F401
from webapp.draw.models import Draw, DrawEvent, DrawWitness, Plan, Replacement  # noqa: F401
from webapp.inspections.checkin import CheckinPlace  # noqa: F401
from webapp.inspections.models import ChecklistAnswer, Finding, Inspection, Photo, Signature  # noqa: F401
from webapp.offline.models import DeviceReport, SyncLedger  # noqa: F401
from webapp.rectification.models import FollowUp, OrderCounter, OrgNoticeSettings, RectificationOrder  # noqa: F401
from webapp.tasks.models import Task, TaskAssignment  # noqa: F401
from webapp.trace.models import InspectionTrace, TraceRating, TraceReport, TraceScan  # noqa: F401
