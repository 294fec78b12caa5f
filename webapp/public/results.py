"""Read-only look-ups for the published inspection results (抽查结果公示). Everything returned is masked.

What is public (decided here, documented in docs/api.md):

* an inspection once it is **submitted** (drafts never), and only the latest record of a check: a record
  superseded by a supplementary record is replaced by it;
* of a task drawn in a **published** (or abandoned) draw, or of a task made by hand (complaint, referral,
  reinspection: ``draw_id`` is empty). A result of a draw that is not yet published stays hidden, so the
  results never reveal a draw before its publication;
* the published category (the eight national categories), never 合格/不合格 and never the check-form result;
* problems as a short summary, scrubbed of the name of everyone the database knows around the record (the
  people of the organisation's units, its inspectors, users and draw witnesses, the unit's signers, the task's
  inspectors: ``inspections.people``), of names after cue words (联系人、经理 …), phone numbers and ID
  numbers (``masking.scrub``);
* the rectification status of the order issued on the check, and penalties (行政处罚) with their decision
  number and date.

Publication deadlines (一公开) are enforced here (rules in ``webapp.publication.services``): a result is due on
the site 20 working days after the check, a penalty 7 working days after its decision. An organisation
without 公示前审核 publishes on submission; with it, a record waits for a supervisor. Either way a record is
public once ``published_at`` is set **or** its ``publish_due_on`` has come (``visible``), so it goes public on
its deadline even if the daily ``flask publication run`` has not stamped it yet. A supplementary record
replaces the original only once it is itself public. ``last_modified`` moves when something becomes due, so
a conditional request never keeps a newly public result hidden behind a 304.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from webapp import calendar
from webapp.auth.models import Organisation
from webapp.calendar import day_start_utc
from webapp.catalog.models import ItemVersion
from webapp.draw.models import Draw
from webapp.draw.services import PUBLIC_STATUSES
from webapp.extensions import db
from webapp.inspections.labels import CATEGORY_LABELS
from webapp.inspections.models import Finding, Inspection, InspectionStatus, superseded
from webapp.inspections.people import People
from webapp.masking import Names, scrub
from webapp.public.queries import etag_for
from webapp.publication.services import check_date, visible
from webapp.rectification.labels import ORDER_STATUS
from webapp.rectification.models import FollowUp, FollowUpKind, RectificationOrder
from webapp.registry.models import Unit
from webapp.tasks.models import Task

PER_PAGE = 20
SUMMARY_CHARS = 60  # each problem is cut to this many characters in the summary


@dataclass
class Penalty:
    decision_number: str
    decision_date: dt.date | None


@dataclass
class PublicResult:
    id: str  # the inspection's public id
    unit: str
    uscc: str | None
    item: str
    date: dt.date
    organisation: str
    category: str  # PublishedCategory value
    category_label: str
    problems: list[str]
    rectification_status: str | None  # OrderStatus value, None when no order was issued
    rectification_label: str | None
    penalties: list[Penalty] = field(default_factory=list)
    submitted_at: dt.datetime | None = None
    published_at: dt.datetime | None = None  # when it went public (stamped, or its due day began)


@dataclass
class ResultPage:
    rows: list[PublicResult]
    page: int
    has_next: bool
    query: str


def _public_inspections(today: dt.date):
    """The select of public inspections (with task, unit, item, organisation), newest first."""
    return (
        select(Inspection, Unit, ItemVersion.name, Organisation.name)
        .join(Task, Task.id == Inspection.task_id)
        .outerjoin(Draw, Draw.id == Task.draw_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .join(Organisation, Organisation.id == Inspection.org_id)
        .where(
            Inspection.status == InspectionStatus.SUBMITTED,
            Inspection.category.is_not(None),
            visible(Inspection, today),
            or_(Task.draw_id.is_(None), Draw.status.in_(PUBLIC_STATUSES)),
            ~superseded(lambda newer: visible(newer, today)),
        )
        .order_by(Inspection.submitted_at.desc(), Inspection.id.desc())
    )


def _summary(text: str, names: Names) -> str:
    text = scrub(" ".join(text.split()), names)
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _row(ins: Inspection, unit: Unit, item: str, org: str, today: dt.date, people: People | None) -> PublicResult:
    """One public result; ``people`` (shared by the rows of one response) masks the problems, ``None`` leaves
    them out (the feed shows no problems)."""
    problems: list[str] = []
    if people is not None:
        names = people.around(ins.org_id, unit.id, ins.task_id)
        problems = [
            _summary(text, names)
            for text in db.session.execute(
                select(Finding.text).where(Finding.inspection_id == ins.id).order_by(Finding.seq)
            ).scalars()
        ]
    order = db.session.execute(
        select(RectificationOrder)
        .where(RectificationOrder.inspection_id == ins.id)
        .order_by(RectificationOrder.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    penalties: list[Penalty] = []
    if order is not None:
        penalties = [
            Penalty(number, day)
            for number, day in db.session.execute(
                select(FollowUp.decision_number, FollowUp.decision_date)
                .join(RectificationOrder, RectificationOrder.id == FollowUp.order_id)
                .where(
                    RectificationOrder.inspection_id == ins.id,
                    FollowUp.kind == FollowUpKind.PENALTY,
                    FollowUp.decision_number.is_not(None),
                    visible(FollowUp, today),
                )
                .order_by(FollowUp.id)
            )
        ]
    return PublicResult(
        id=ins.public_id,
        unit=unit.name,
        uscc=unit.uscc,
        item=item,
        date=check_date(ins),
        organisation=org,
        category=ins.category.value,
        category_label=str(CATEGORY_LABELS[ins.category]),
        problems=problems,
        rectification_status=order.status.value if order else None,
        rectification_label=str(ORDER_STATUS[order.status]) if order else None,
        penalties=penalties,
        submitted_at=ins.submitted_at,
        published_at=_published(ins.published_at, ins.publish_due_on, today),
    )


def _published(at: dt.datetime | None, due: dt.date | None, today: dt.date) -> dt.datetime | None:
    """When the record went public: stamped, or the start of its due day if that came first."""
    candidates = [a if a.tzinfo else a.replace(tzinfo=dt.UTC) for a in (at,) if a is not None]
    if due is not None and due <= today:
        candidates.append(day_start_utc(due))
    return min(candidates) if candidates else None


def search(
    query: str = "", page: int = 1, per_page: int = PER_PAGE, today: dt.date | None = None, *, problems: bool = True
) -> ResultPage:
    """Public results, newest first; ``query`` matches part of the unit's name or its whole USCC.

    Problems are masked with the names of everyone the database knows around each record, loaded once per
    organisation, unit and task for the whole page; ``problems=False`` leaves them out.
    """
    today = today or calendar.today()
    page = max(1, page)
    query = " ".join((query or "").split())[:100]
    q = _public_inspections(today)
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(or_(Unit.name.like(like, escape="\\"), Unit.uscc == query.upper()))
    q = q.offset((page - 1) * per_page).limit(per_page + 1)
    people = People() if problems else None
    rows = [_row(ins, unit, item, org, today, people) for ins, unit, item, org in db.session.execute(q)]
    return ResultPage(rows[:per_page], page, len(rows) > per_page, query)


def last_modified(today: dt.date | None = None) -> dt.datetime | None:
    """The newest change of anything the results show, including a record turning public on its due day."""
    today = today or calendar.today()
    due = [
        db.session.execute(
            select(func.max(model.publish_due_on)).where(model.published_at.is_(None), model.publish_due_on <= today)
        ).scalar()
        for model in (Inspection, FollowUp)
    ]
    stamps = [
        *(day_start_utc(d) for d in due if d is not None),
        db.session.execute(select(func.max(Inspection.published_at))).scalar(),
        db.session.execute(select(func.max(FollowUp.published_at))).scalar(),
        db.session.execute(
            select(func.max(Inspection.submitted_at)).where(Inspection.status == InspectionStatus.SUBMITTED)
        ).scalar(),
        db.session.execute(select(func.max(RectificationOrder.status_at))).scalar(),
        db.session.execute(select(func.max(RectificationOrder.issued_at))).scalar(),
        db.session.execute(select(func.max(FollowUp.created_at))).scalar(),
        db.session.execute(select(func.max(Draw.published_at))).scalar(),
    ]
    stamps = [s.replace(tzinfo=dt.UTC) if s.tzinfo is None else s for s in stamps if s is not None]
    return max(stamps) if stamps else None


def page_version(result: ResultPage) -> str:
    return etag_for("results", result.query, result.page, result.has_next, *(repr(r) for r in result.rows))


def as_json(r: PublicResult) -> dict:
    """One result in the stable shape of /public/api/v1/results.json (docs/api.md): change only by adding."""
    return {
        "id": r.id,
        "unit": r.unit,
        "uscc": r.uscc,
        "item": r.item,
        "date": r.date.isoformat(),
        "organisation": r.organisation,
        "category": r.category,
        "category_label": r.category_label,
        "problems": r.problems,
        "rectification_status": r.rectification_status,
        "penalties": [
            {"decision_number": p.decision_number, "decision_date": p.decision_date and p.decision_date.isoformat()}
            for p in r.penalties
        ],
    }
