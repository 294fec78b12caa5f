"""Read-only look-ups for the draw pages: lists, names, the year's progress of a plan.

Nothing here writes or draws; the ceremony itself is in ``services``. Every function takes plain
arguments (never ``request``) so pages, the CLI and tests share them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, OrgKind, User
from webapp.catalog.models import Item
from webapp.draw import plans as plan_rules
from webapp.draw.models import Draw, DrawStatus, Plan, PlanKind, Replacement
from webapp.draw.services import PUBLIC_STATUSES
from webapp.extensions import db
from webapp.registry.models import Inspector, Unit, UnitClass, UnitStatus
from webapp.tasks.models import MANUAL_KINDS, Task, TaskAssignment, TaskStatus


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def next_month(today: dt.date) -> tuple[int, int]:
    return (today.year + (today.month == 12), today.month % 12 + 1)


# ------------------------------------------------------------------------------------------- look-ups


def get_plan(public_id: str) -> Plan | None:
    return db.session.execute(select(Plan).where(Plan.public_id == public_id)).scalar_one_or_none()


def get_draw(public_id: str) -> Draw | None:
    return db.session.execute(select(Draw).where(Draw.public_id == public_id)).scalar_one_or_none()


def get_task(public_id: str) -> Task | None:
    return db.session.execute(select(Task).where(Task.public_id == public_id)).scalar_one_or_none()


def get_item(code: str) -> Item | None:
    return db.session.execute(select(Item).where(Item.code == code)).scalar_one_or_none()


def get_org(code: str) -> Organisation | None:
    return db.session.execute(select(Organisation).where(Organisation.code == code)).scalar_one_or_none()


def active_items() -> list[Item]:
    return list(db.session.execute(select(Item).where(Item.active.is_(True)).order_by(Item.code)).scalars())


def orgs_by_id(ids: list[int]) -> list[Organisation]:
    if not ids:
        return []
    return list(
        db.session.execute(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.code)).scalars()
    )


def dadui_below(org: Organisation) -> list[Organisation]:
    """The 大队 a 支队/总队 may draw for together (cross-region); empty for a 大队."""
    if org.kind == OrgKind.DADUI:
        return []
    from webapp.auth.access import org_subtree_ids

    ids = org_subtree_ids([org.id]) - {org.id}
    if not ids:
        return []
    return list(
        db.session.execute(
            select(Organisation)
            .where(Organisation.id.in_(ids), Organisation.kind == OrgKind.DADUI, Organisation.active.is_(True))
            .order_by(Organisation.code)
        ).scalars()
    )


# -------------------------------------------------------------------------------------------- lists


@dataclass
class PlanRow:
    plan: Plan
    draws: list[Draw] = field(default_factory=list)


def plans_for(user: User) -> list[PlanRow]:
    """Plans the supervisor manages (own organisation and below), newest year first, with their draws."""
    ids = visible_org_ids(user)
    q = select(Plan).options(selectinload(Plan.org), selectinload(Plan.item).selectinload(Item.versions))
    if ids is not None:
        q = q.where(Plan.org_id.in_(ids))
    plans = list(db.session.execute(q.order_by(Plan.year.desc(), Plan.kind, Plan.id)).scalars())
    rows = {p.id: PlanRow(p) for p in plans}
    if rows:
        for d in db.session.execute(
            select(Draw).where(Draw.plan_id.in_(rows)).order_by(Draw.period, Draw.committed_at)
        ).scalars():
            rows[d.plan_id].draws.append(d)
    return list(rows.values())


def plan_draws(plan: Plan) -> list[Draw]:
    return list(
        db.session.execute(select(Draw).where(Draw.plan_id == plan.id).order_by(Draw.period, Draw.committed_at))
        .scalars()
        .all()
    )


def manual_tasks(user: User, limit: int = 20) -> list[Task]:
    """The latest complaint/referral tasks (not drawn) of the supervisor's organisations."""
    ids = visible_org_ids(user)
    q = (
        select(Task)
        .options(selectinload(Task.unit), selectinload(Task.assignments).selectinload(TaskAssignment.inspector))
        .where(Task.kind.in_(MANUAL_KINDS))
    )
    if ids is not None:
        q = q.where(Task.org_id.in_(ids))
    return list(db.session.execute(q.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)).scalars())


def search_units(user: User, q: str, limit: int = 20) -> list[Unit]:
    """Active units of the supervisor's organisations matching name, USCC or address."""
    q = (q or "").strip()
    if not q:
        return []
    ids = visible_org_ids(user)
    like = f"%{q}%"
    stmt = select(Unit).where(
        Unit.status == UnitStatus.ACTIVE, or_(Unit.name.like(like), Unit.uscc.like(like), Unit.address.like(like))
    )
    if ids is not None:
        stmt = stmt.where(Unit.org_id.in_(ids))
    return list(db.session.execute(stmt.order_by(Unit.name).limit(limit)).scalars())


def unit_for(user: User, public_id: str) -> Unit | None:
    if not public_id:
        return None
    unit = db.session.execute(select(Unit).where(Unit.public_id == public_id)).scalar_one_or_none()
    ids = visible_org_ids(user)
    if unit is None or (ids is not None and unit.org_id not in ids):
        return None
    return unit


def selectable_inspectors(user: User) -> list[Inspector]:
    """Inspectors a supervisor may put on a complaint/referral task: own organisations and other departments."""
    ids = visible_org_ids(user)
    q = select(Inspector).join(Organisation, Organisation.id == Inspector.org_id).options(selectinload(Inspector.org))
    if ids is not None:
        q = q.where(or_(Inspector.org_id.in_(ids), Organisation.kind == OrgKind.DEPARTMENT))
    return list(db.session.execute(q.order_by(Organisation.code, Inspector.name)).scalars())


def inspector_by_public_id(public_id: str) -> Inspector | None:
    if not public_id:
        return None
    return db.session.execute(select(Inspector).where(Inspector.public_id == public_id)).scalar_one_or_none()


@dataclass
class PublicPage:
    draws: list[Draw]
    page: int
    has_next: bool


def public_draws(page: int = 1, per_page: int = 30) -> PublicPage:
    page = max(1, page)
    rows = list(
        db.session.execute(
            select(Draw)
            .options(selectinload(Draw.org), selectinload(Draw.plan))
            .where(Draw.status.in_(PUBLIC_STATUSES))
            .order_by(Draw.published_at.desc(), Draw.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        ).scalars()
    )
    return PublicPage(rows[:per_page], page, len(rows) > per_page)


def task_counts(draw_ids: list[int]) -> dict[int, int]:
    if not draw_ids:
        return {}
    q = select(Task.draw_id, func.count(Task.id)).where(Task.draw_id.in_(draw_ids)).group_by(Task.draw_id)
    return {draw_id: n for draw_id, n in db.session.execute(q) if draw_id is not None}


# ----------------------------------------------------------------------------------- a draw's result


@dataclass
class ResultRow:
    task: Task
    active: list[TaskAssignment]
    ended: list[TaskAssignment]
    replacements: list[Replacement]


def result_rows(draw: Draw) -> list[ResultRow]:
    """The draw's tasks in order, with current and replaced inspectors (names loaded in bulk)."""
    tasks = list(
        db.session.execute(
            select(Task)
            .options(
                selectinload(Task.unit),
                selectinload(Task.assignments).selectinload(TaskAssignment.inspector).selectinload(Inspector.org),
            )
            .where(Task.draw_id == draw.id)
            .order_by(Task.seq)
        ).scalars()
    )
    reps: dict[int, list[Replacement]] = {}
    for r in db.session.execute(
        select(Replacement)
        .options(selectinload(Replacement.out_inspector), selectinload(Replacement.in_inspector))
        .where(Replacement.draw_id == draw.id)
        .order_by(Replacement.id)
    ).scalars():
        reps.setdefault(r.task_id, []).append(r)
    return [
        ResultRow(
            task=t,
            active=sorted((a for a in t.assignments if a.active), key=lambda a: a.slot),
            ended=[a for a in t.assignments if not a.active],
            replacements=reps.get(t.id, []),
        )
        for t in tasks
    ]


def pool_summary(draw: Draw) -> dict:
    """Counts shown beside the commitment: pool sizes, quotas, working days, exclusions by reason."""
    pool = draw.pool or {}
    per_stratum: dict[str, int] = {}
    for u in pool.get("units", []):
        per_stratum[u["stratum"]] = per_stratum.get(u["stratum"], 0) + 1
    excluded: dict[str, int] = {}
    for e in draw.excluded or []:
        excluded[e["reason"]] = excluded.get(e["reason"], 0) + 1
    return {
        "units": len(pool.get("units", [])),
        "per_stratum": per_stratum,
        "inspectors": len(pool.get("inspectors", [])),
        "quotas": pool.get("quotas", {}),
        "slots": pool.get("slots", []),
        "working_days": pool.get("working_days", []),
        "excluded": excluded,
        "inspectors_excluded": len(draw.inspector_excluded or []),
    }


# --------------------------------------------------------------------------------- a plan's progress


@dataclass
class ProgressRow:
    stratum: str
    target_pct: int
    total: int
    annual_target: int
    done: int
    monthly_quota: int  # special plans: the fixed quota; routine plans: the next period's expected quota

    @property
    def remaining(self) -> int:
        return max(0, self.annual_target - self.done)


@dataclass
class MonthRow:
    period: str
    month: int
    draws: list[Draw]
    drawable: bool  # not in the past and no live draw yet

    @property
    def live(self) -> Draw | None:
        return next((d for d in self.draws if d.status != DrawStatus.ABANDONED), None)


@dataclass
class Progress:
    rows: list[ProgressRow]
    months: list[MonthRow]
    months_left: int
    next_period: str | None


def _unit_filter(plan: Plan) -> list:
    flt = plan.pool_filter or {}
    conds = [Unit.org_id.in_(plan.unit_org_ids or [-1])]
    if flt.get("unit_classes"):
        conds.append(Unit.unit_class.in_([UnitClass(c) for c in flt["unit_classes"]]))
    if flt.get("regions"):
        conds.append(Unit.region.in_(flt["regions"]))
    if flt.get("industries"):
        conds.append(Unit.industry.in_(flt["industries"]))
    if flt.get("crowded_only"):
        conds.append(Unit.crowded.is_(True))
    return conds


def plan_progress(plan: Plan, today: dt.date) -> Progress:
    """Annual target, done so far this year, remaining and months left per stratum (cheap counts only).

    "Done" counts, like the eligibility rules, active units with a drawn (routine or special) task planned
    this year that was not cancelled. The exact quota of a period is on the eligibility page.
    """
    conds = [*_unit_filter(plan), Unit.status == UnitStatus.ACTIVE, Unit.unit_class.is_not(None)]
    totals: dict[str, int] = {}
    for ucls, crowded, n in db.session.execute(
        select(Unit.unit_class, Unit.crowded, func.count(Unit.id)).where(*conds).group_by(Unit.unit_class, Unit.crowded)
    ):
        s = plan_rules.stratum_of(ucls, bool(crowded))
        if s is not None:  # never: the class is not missing (conds)
            totals[s] = totals.get(s, 0) + n
    done: dict[str, int] = {}
    year_start, year_end = dt.date(plan.year, 1, 1), dt.date(plan.year, 12, 31)
    for ucls, crowded, n in db.session.execute(
        select(Unit.unit_class, Unit.crowded, func.count(func.distinct(Unit.id)))
        .join(Task, Task.unit_id == Unit.id)
        .where(
            *conds,
            Task.kind.in_(plan_rules.DRAWN_KINDS),
            Task.status != TaskStatus.CANCELLED,
            Task.planned_date >= year_start,
            Task.planned_date <= year_end,
        )
        .group_by(Unit.unit_class, Unit.crowded)
    ):
        s = plan_rules.stratum_of(ucls, bool(crowded))
        if s is not None:
            done[s] = done.get(s, 0) + n

    draws = plan_draws(plan)
    this_month = (today.year, today.month)
    months = []
    for m in range(plan.start_month, plan.end_month + 1):
        period = period_of(plan.year, m)
        ds = [d for d in draws if d.period == period]
        live = any(d.status != DrawStatus.ABANDONED for d in ds)
        months.append(MonthRow(period, m, ds, drawable=(plan.year, m) >= this_month and not live))
    if plan.year > today.year:
        first_left = plan.start_month
    elif plan.year == today.year:
        first_left = max(plan.start_month, today.month)
    else:
        first_left = 13
    months_left = max(0, plan.end_month - first_left + 1)
    upcoming = [r for r in months if r.drawable]
    nxt_year, nxt_month = next_month(today)
    preferred = next((r for r in upcoming if r.period == period_of(nxt_year, nxt_month)), None)
    next_row = preferred or (upcoming[0] if upcoming else None)

    figures = {}
    targets = plan.targets or {}
    for s in plan_rules.STRATA:
        pct = int(targets.get(s, 0)) if plan.kind == PlanKind.ROUTINE else 0
        fig = plan_rules.StratumFigures(s, total=totals.get(s, 0), target_pct=pct, done_this_year=done.get(s, 0))
        fig.annual_target = math.ceil(fig.total * pct / 100)  # as plans.eligibility
        figures[s] = fig
    quotas = plan_rules.monthly_quotas(plan, figures, next_row.month) if next_row else {}
    rows = [
        ProgressRow(
            stratum=s,
            target_pct=f.target_pct,
            total=f.total,
            annual_target=f.annual_target,
            done=f.done_this_year,
            monthly_quota=quotas.get(s, 0),
        )
        for s, f in figures.items()
    ]
    return Progress(rows, months, months_left, next_row.period if next_row else None)


def default_period(plan: Plan, today: dt.date) -> str:
    """The period a supervisor most likely wants to look at: next month if the plan covers it."""
    nxt = period_of(*next_month(today))
    candidates = [period_of(plan.year, m) for m in range(plan.start_month, plan.end_month + 1)]
    if nxt in candidates:
        return nxt
    future = [p for p in candidates if p >= period_of(today.year, today.month)]
    return future[0] if future else candidates[-1]


def plan_periods(plan: Plan) -> list[str]:
    return [period_of(plan.year, m) for m in range(plan.start_month, plan.end_month + 1)]


def drawn_count_by_plan(plan: Plan) -> int:
    return (
        db.session.execute(
            select(func.count(Task.id))
            .join(Draw, Draw.id == Task.draw_id)
            .where(Draw.plan_id == plan.id, Draw.status != DrawStatus.ABANDONED)
        ).scalar()
        or 0
    )
