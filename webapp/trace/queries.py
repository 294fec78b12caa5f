"""Reads of the trace: the public page behind the code, the code on the record page, the supervisors' list of
ratings and reports and the dashboard card.

The public page gets masked names only (``webapp.masking``); ratings and reports are read only for the
supervisors of the inspecting organisation (or above it), and free text from the public reaches them scrubbed of
names, phone and ID numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select

from webapp.auth import access
from webapp.auth.models import Organisation, Role, User
from webapp.catalog.models import ChecklistPoint
from webapp.extensions import db
from webapp.inspections.models import Inspection
from webapp.inspections.people import People
from webapp.masking import mask_name, scrub
from webapp.tasks.models import Task, TaskStatus
from webapp.trace.models import InspectionTrace, TraceRating, TraceReport
from webapp.trace.services import is_finished

MAX_TOKEN = 64
PER_PAGE = 50
ROLE_LABELS = {"lead": "主办", "assist": "协办"}


def by_token(token: str) -> InspectionTrace | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    return db.session.execute(select(InspectionTrace).where(InspectionTrace.token == token)).scalar_one_or_none()


# ------------------------------------------------------------------------------------------ the public page


@dataclass
class PublicInspector:
    name: str  # masked
    organisation: str
    role: str  # lead | assist
    cert_no: str
    cert_valid: bool
    cert_valid_until: dt.date | None


@dataclass
class PublicTrace:
    token: str
    state: str  # in_progress | finished | cancelled (labels.STATE_LABELS)
    org_name: str  # 实施检查的机关
    supervisor_org: str | None  # the organisation above it (上级机关)
    unit_name: str
    item_name: str
    basis: str
    points: list[str]
    inspectors: list[PublicInspector]
    checkin_at: dt.datetime | None
    submitted_at: dt.datetime | None
    rated: bool

    @property
    def finished(self) -> bool:
        return self.state == "finished"


def _inspecting_org(task: Task) -> Organisation:
    return db.session.get(Organisation, access.task_org_id(task))


def public_view(trace: InspectionTrace, today: dt.date) -> PublicTrace:
    """What anyone holding the code sees: masked names, certificate numbers with their validity ``today``."""
    insp = trace.inspection
    task = insp.task
    org = _inspecting_org(task)
    version = task.item_version
    points = db.session.execute(
        select(ChecklistPoint.text)
        .where(ChecklistPoint.item_version_id == version.id)
        .order_by(ChecklistPoint.seq, ChecklistPoint.id)
    ).scalars()
    people = [
        PublicInspector(
            name=mask_name(a.inspector.name),
            organisation=a.inspector.org.name,
            role=a.role,
            cert_no=a.inspector.cert_no or "",
            cert_valid=a.inspector.cert_valid_on(today),
            cert_valid_until=a.inspector.cert_valid_until,
        )
        for a in sorted(task.active_assignments, key=lambda a: a.slot)
    ]
    if is_finished(trace):
        state = "finished"
    elif task.status == TaskStatus.CANCELLED:
        state = "cancelled"
    else:
        state = "in_progress"
    return PublicTrace(
        token=trace.token,
        state=state,
        org_name=org.name,
        supervisor_org=org.parent.name if org.parent is not None else None,
        unit_name=task.unit.name,
        item_name=version.name,
        basis=version.basis,
        points=list(points),
        inspectors=people,
        checkin_at=insp.checkin_at,
        submitted_at=insp.submitted_at,
        rated=trace.rating is not None,
    )


# ---------------------------------------------------------------------------- ratings and reports (supervisors)


def _supervised_org_ids(user: User) -> set[int]:
    """The organisations whose ratings and reports ``user`` reads: a supervisor's subtree; nobody else's."""
    if user.role != Role.SUPERVISOR:
        return set()
    return access.visible_org_ids(user) or set()


@dataclass
class FeedbackRow:
    kind: str  # rating | report
    at: dt.datetime
    task_public_id: str
    unit_name: str
    item_name: str
    inspectors: list[str]
    text: str  # scrubbed
    score: int | None = None
    visit_confirmed: bool | None = None
    contact: str | None = None


@dataclass
class FeedbackPage:
    rows: list[FeedbackRow]
    kind: str
    page: int
    has_next: bool


def feedback(user: User, kind: str, page: int = 1) -> FeedbackPage:
    """Ratings (``kind="rating"``) or reports (``"report"``) of the inspections ``user`` supervises, newest first."""
    model = TraceRating if kind == "rating" else TraceReport
    org_ids = _supervised_org_ids(user)
    rows = (
        db.session.execute(
            select(model)
            .where(model.org_id.in_(org_ids))
            .order_by(model.created_at.desc(), model.id.desc())
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
        .scalars()
        .all()
    )
    people = People()
    out: list[FeedbackRow] = []
    for r in rows[:PER_PAGE]:
        insp: Inspection = r.trace.inspection
        task = insp.task
        names = people.around(insp.org_id, task.unit_id, task.id)
        text = r.comment if kind == "rating" else r.text
        out.append(
            FeedbackRow(
                kind=kind,
                at=r.created_at,
                task_public_id=task.public_id,
                unit_name=task.unit.name,
                item_name=task.item_version.name,
                inspectors=[a.inspector.name for a in sorted(task.active_assignments, key=lambda a: a.slot)],
                text=scrub(text or "", names),
                score=getattr(r, "score", None),
                visit_confirmed=getattr(r, "visit_confirmed", None),
                contact=getattr(r, "contact", None),
            )
        )
    return FeedbackPage(out, kind, page, len(rows) > PER_PAGE)


@dataclass
class Summary:
    ratings: int
    average: float | None
    low: int  # 1 or 2
    denied_visits: int  # the unit says nobody came
    reports: int
    reports_recent: int  # the last 30 days
    latest: list[FeedbackRow]


def dashboard_summary(user: User, now: dt.datetime) -> Summary:
    """The dashboard card 满意度评价与举报: counts of the supervised organisations, the latest reports."""
    org_ids = _supervised_org_ids(user)
    count, average, low, denied = db.session.execute(
        select(
            func.count(TraceRating.id),
            func.avg(TraceRating.score),
            func.coalesce(func.sum(case((TraceRating.score <= 2, 1), else_=0)), 0),
            func.coalesce(func.sum(case((TraceRating.visit_confirmed.is_(False), 1), else_=0)), 0),
        ).where(TraceRating.org_id.in_(org_ids))
    ).one()
    reports, recent = db.session.execute(
        select(
            func.count(TraceReport.id),
            func.coalesce(func.sum(case((TraceReport.created_at >= now - dt.timedelta(days=30), 1), else_=0)), 0),
        ).where(TraceReport.org_id.in_(org_ids))
    ).one()
    latest = feedback(user, "report").rows[:3] if reports else []
    return Summary(
        ratings=count,
        average=round(float(average), 1) if average is not None else None,
        low=int(low),
        denied_visits=int(denied),
        reports=reports,
        reports_recent=int(recent),
        latest=latest,
    )


def scans_of(trace: InspectionTrace | None) -> tuple[int, dt.datetime | None]:
    return (trace.scan_count, trace.last_scan_at) if trace is not None else (0, None)


def trace_for_task(task_id: int) -> InspectionTrace | None:
    """The code of a task's first record, if one was shown."""
    return db.session.execute(
        select(InspectionTrace)
        .join(Inspection, Inspection.id == InspectionTrace.inspection_id)
        .where(Inspection.task_id == task_id)
    ).scalar_one_or_none()
