"""Read-only look-ups for the public site. Everything returned here is already masked.

Only published and abandoned draws (``services.PUBLIC_STATUSES``) exist for the public site; any other
draw is "not found". Personal names leave this module only through :mod:`webapp.masking`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.auth.models import Organisation
from webapp.catalog.models import ItemVersion
from webapp.draw import queries as draw_queries
from webapp.draw import services as draw_services
from webapp.draw.models import SPEC_V1, Draw, DrawEvent, Replacement
from webapp.draw.plans import STRATA
from webapp.extensions import db
from webapp.inspections.people import People
from webapp.masking import Names, mask_name, scrub
from webapp.registry.models import Inspector, Unit
from webapp.tasks.models import Task, TaskAssignment

PUBLIC_STATUSES = draw_services.PUBLIC_STATUSES
PER_PAGE = 20


# ------------------------------------------------------------------------------------------ the list


@dataclass
class DrawListRow:
    public_id: str
    org_name: str
    item_name: str
    period: str
    status: str
    task_count: int
    published_at: dt.datetime | None


@dataclass
class DrawListPage:
    rows: list[DrawListRow]
    page: int
    has_next: bool


def draw_list(page: int = 1, per_page: int = PER_PAGE) -> DrawListPage:
    """Published (and abandoned) draws, newest publication first, with their task counts: one query."""
    page = max(1, page)
    counts = select(Task.draw_id, func.count(Task.id).label("n")).group_by(Task.draw_id).subquery()
    q = (
        select(
            Draw.public_id,
            Organisation.name,
            ItemVersion.name,
            Draw.period,
            Draw.status,
            func.coalesce(counts.c.n, 0),
            Draw.published_at,
        )
        .join(Organisation, Organisation.id == Draw.org_id)
        .join(ItemVersion, ItemVersion.id == Draw.item_version_id)
        .outerjoin(counts, counts.c.draw_id == Draw.id)
        .where(Draw.status.in_(PUBLIC_STATUSES))
        .order_by(Draw.published_at.desc(), Draw.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    rows = [
        DrawListRow(pid, org, item, period, status.value, int(n), published)
        for pid, org, item, period, status, n, published in db.session.execute(q)
    ]
    return DrawListPage(rows[:per_page], page, len(rows) > per_page)


def list_last_modified() -> dt.datetime | None:
    return db.session.execute(select(func.max(Draw.published_at)).where(Draw.status.in_(PUBLIC_STATUSES))).scalar()


# ------------------------------------------------------------------------------------------- one draw


def public_draw(public_id: str) -> Draw | None:
    """The draw if it is public, else ``None`` (unpublished draws are not disclosed, not even their existence)."""
    return db.session.execute(
        select(Draw).where(Draw.public_id == public_id, Draw.status.in_(PUBLIC_STATUSES))
    ).scalar_one_or_none()


def draw_version(draw: Draw) -> tuple[str, dt.datetime | None]:
    """A version key and the last change of everything a public draw's page shows.

    The draw's status and publication, its replacements, and the names shown beside it (organisation,
    units and inspectors: a corrected name must not be answered with 304). Three small aggregate queries.
    """
    n, last_rep_id, last_rep_at = db.session.execute(
        select(func.count(Replacement.id), func.max(Replacement.id), func.max(Replacement.created_at)).where(
            Replacement.draw_id == draw.id
        )
    ).one()
    units_at = db.session.execute(
        select(func.max(Unit.updated_at)).join(Task, Task.unit_id == Unit.id).where(Task.draw_id == draw.id)
    ).scalar()
    inspectors_at = db.session.execute(
        select(func.max(Inspector.updated_at))
        .join(TaskAssignment, TaskAssignment.inspector_id == Inspector.id)
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(Task.draw_id == draw.id)
    ).scalar()
    stamps = [
        t
        for t in (draw.published_at, draw.abandoned_at, draw.closed_at, last_rep_at, units_at, inspectors_at)
        if t is not None
    ]
    last = max(stamps) if stamps else None
    version = ":".join(
        str(x)
        for x in (
            draw.public_id,
            draw.status.value,
            draw.published_at,
            draw.closed_at,
            n,
            last_rep_id,
            units_at,
            inspectors_at,
            draw.org.name,
        )
    )
    return version, last


def rows_version(rows: list[DrawListRow]) -> str:
    """A version key of a list page: the rows themselves (a page holds at most ``PER_PAGE`` small rows)."""
    return etag_for(*(repr(r) for r in rows))


@dataclass
class PublicInspector:
    masked_name: str
    dept: str
    role: str
    slot: int


@dataclass
class PublicReplacement:
    slot: int
    round: int
    out_name: str
    in_name: str
    reason: str
    at: dt.datetime


@dataclass
class PublicTask:
    seq: int
    unit_name: str
    unit_id: str
    planned_date: dt.date
    status: str
    inspectors: list[PublicInspector]
    replacements: list[PublicReplacement]


@dataclass
class PublicWitness:
    seq: int
    masked_name: str
    role: str
    value: str


@dataclass
class PublicDraw:
    draw: Draw
    org_name: str
    item_name: str
    item_code: str
    plan_name: str
    abandoned_reason: str | None
    witnesses: list[PublicWitness]
    tasks: list[PublicTask]
    summary: dict
    # (stratum, units in pool, quota, units drawn): what was drawn is shown beside the quota, never as it
    strata: list[tuple[str, int, int, int]] = field(default_factory=list)
    replacement_count: int = 0
    names: Names = field(default_factory=Names, repr=False)  # the unmasked names, for scrubbing only


def personal_names(draw: Draw) -> Names:
    """Every personal name a free-text field of this draw might mention (``inspections.people``): the people
    of its organisation (units' contacts, inspectors, users, witnesses), the inspectors ever on its tasks, the
    people of its units and its witnesses."""
    return People().of_draw(draw)


def _stratum_order(key: str) -> tuple[int, str]:
    return (STRATA.index(key) if key in STRATA else len(STRATA), key)


def draw_page(draw: Draw) -> PublicDraw:
    """Everything the public page of one draw shows, personal names masked."""
    names = personal_names(draw)
    version = db.session.get(ItemVersion, draw.item_version_id)
    tasks = []
    n_reps = 0
    for row in draw_queries.result_rows(draw):
        reps = [
            PublicReplacement(
                slot=r.slot,
                round=r.round,
                out_name=mask_name(r.out_inspector.name) if r.out_inspector else "",
                in_name=mask_name(r.in_inspector.name),
                reason=scrub(r.reason, names),
                at=r.created_at,
            )
            for r in row.replacements
        ]
        n_reps += len(reps)
        tasks.append(
            PublicTask(
                seq=row.task.seq if row.task.seq is not None else len(tasks),
                unit_name=row.task.unit.name,
                unit_id=row.task.unit.public_id,
                planned_date=row.task.planned_date,
                status=row.task.status.value,
                inspectors=[PublicInspector(mask_name(a.inspector.name), a.dept, a.role, a.slot) for a in row.active],
                replacements=reps,
            )
        )
    summary = draw_queries.pool_summary(draw)
    keys = sorted(set(summary["per_stratum"]) | set(summary["quotas"]), key=_stratum_order)
    stratum_of = {u["id"]: u["stratum"] for u in draw.pool.get("units", [])}
    drawn: dict[str, int] = {}
    for t in draw.result or []:
        k = stratum_of.get(t["unit_id"], "")
        drawn[k] = drawn.get(k, 0) + 1
    strata = [(k, summary["per_stratum"].get(k, 0), int(summary["quotas"].get(k, 0)), drawn.get(k, 0)) for k in keys]
    witnesses = [PublicWitness(w.seq, mask_name(w.name), w.role, w.value) for w in draw.witnesses]
    return PublicDraw(
        draw=draw,
        org_name=draw.org.name,
        item_name=version.name if version else draw.plan.item.code,
        item_code=draw.plan.item.code,
        plan_name=draw.plan.name,
        abandoned_reason=scrub(draw.abandoned_reason, names) if draw.abandoned_reason else None,
        witnesses=witnesses,
        tasks=tasks,
        summary=summary,
        strata=strata,
        replacement_count=n_reps,
        names=names,
    )


def public_bundle(draw: Draw) -> dict:
    """The verification bundle of a public draw, with personal names in the free-text reasons masked.

    The reasons are not part of the verification (the verifier only checks that one is recorded), so the
    masked bundle verifies exactly like the internal export.
    """
    data = draw_services.bundle(draw)
    if draw.has_log:  # /2: reasons were masked when logged (they are hashed into the log as published)
        return data
    names = personal_names(draw)
    for r in data.get("replacements", []):
        r["reason"] = scrub(r.get("reason"), names)
    if data["draw"].get("abandoned_reason"):
        data["draw"]["abandoned_reason"] = scrub(data["draw"]["abandoned_reason"], names)
    return data


# ------------------------------------------------------------------------------------ the register


@dataclass
class RegisterEvent:
    n: int
    type: str
    at: str
    head: str
    data: dict | None  # None while hidden: only the commit event's data before publication


@dataclass
class RegisterRow:
    public_id: str
    org_name: str
    item_name: str
    period: str
    status: str  # committed, drawn, published, closed (the bundle's status)
    abandoned: bool
    pool_hash: str
    commitment: str
    replacement_commitment: str | None
    early_reason: str | None
    events: list[RegisterEvent]
    public: bool

    @property
    def head(self) -> str | None:
        return self.events[-1].head if self.events else None

    @property
    def updated(self) -> str | None:
        return self.events[-1].at if self.events else None


@dataclass
class RegisterPage:
    rows: list[RegisterRow]
    page: int
    has_next: bool


def register(page: int = 1, per_page: int = PER_PAGE) -> RegisterPage:
    """Every committed /2 draw from its commitment on, newest commitment first, with its log heads.

    Event data other than the commit event's stay hidden until the draw is published. Free text (the early
    reason) has personal names masked; ids are opaque and names never appear.
    """
    page = max(1, page)
    draws = list(
        db.session.execute(
            select(Draw)
            .where(Draw.spec != SPEC_V1)
            .order_by(Draw.committed_at.desc(), Draw.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        ).scalars()
    )
    has_next = len(draws) > per_page
    draws = draws[:per_page]
    events: dict[int, list[DrawEvent]] = {}
    if draws:
        q = select(DrawEvent).where(DrawEvent.draw_id.in_([d.id for d in draws])).order_by(DrawEvent.n)
        for e in db.session.execute(q).scalars():
            events.setdefault(e.draw_id, []).append(e)
    versions = {
        v.id: v.name
        for v in db.session.execute(
            select(ItemVersion).where(ItemVersion.id.in_({d.item_version_id for d in draws}))
        ).scalars()
    }
    people = People()
    names: dict[int, Names] = {}
    rows = []
    for d in draws:
        public = d.status in PUBLIC_STATUSES
        early = None
        if d.early_reason:
            if d.org_id not in names:
                names[d.org_id] = people.of_org(d.org_id)
            early = scrub(d.early_reason, names[d.org_id])
        rows.append(
            RegisterRow(
                public_id=d.public_id,
                org_name=d.org.name,
                item_name=versions.get(d.item_version_id, ""),
                period=d.period,
                status=draw_services.bundle_status(d),
                abandoned=d.abandoned_reason is not None,
                pool_hash=d.pool_hash,
                commitment=d.commitment,
                replacement_commitment=d.replacement_commitment,
                early_reason=early,
                events=[
                    RegisterEvent(e.n, e.type, e.at, e.head, e.data if public or e.type == "commit" else None)
                    for e in events.get(d.id, [])
                ],
                public=public,
            )
        )
    return RegisterPage(rows, page, has_next)


def register_version(listing: RegisterPage) -> tuple[str, dt.datetime | None]:
    """A version key of a register page and its last change (its newest event)."""
    key = etag_for("register", listing.page, listing.has_next, *((r.public_id, r.status, r.head) for r in listing.rows))
    stamps = [
        dt.datetime.strptime(r.updated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC) for r in listing.rows if r.updated
    ]
    return key, max(stamps) if stamps else None


def etag_for(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]
