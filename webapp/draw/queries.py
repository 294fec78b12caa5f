"""Read-only look-ups for the draw pages: lists, names, the year's progress of a plan.

Nothing here writes or draws; the ceremony itself is in ``services``. Every function takes plain
arguments (never ``request``) so pages, the CLI and tests share them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, OrgKind, User
from webapp.catalog.models import Item, ItemVersion
from webapp.draw import plans as plan_rules
from webapp.draw.models import Draw, DrawStatus, Plan, PlanKind, Replacement
from webapp.draw.services import PUBLIC_STATUSES
from webapp.extensions import db
from webapp.registry.models import Inspector, Unit, UnitStatus
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
    """Counts shown beside the commitment: pool sizes, quotas, what was drawn, working days, exclusions by reason.

    ``quotas`` are the frozen quotas per stratum; ``drawn`` what the draw actually took per stratum (fewer than
    the quota when the stratum had fewer eligible units; empty before the draw).
    """
    pool = draw.pool or {}
    per_stratum: dict[str, int] = {}
    stratum_of: dict[str, str] = {}
    for u in pool.get("units", []):
        per_stratum[u["stratum"]] = per_stratum.get(u["stratum"], 0) + 1
        stratum_of[u["id"]] = u["stratum"]
    drawn: dict[str, int] = {}
    for t in draw.result or []:
        s = stratum_of.get(t["unit_id"])
        if s is not None:
            drawn[s] = drawn.get(s, 0) + 1
    excluded: dict[str, int] = {}
    for e in draw.excluded or []:
        excluded[e["reason"]] = excluded.get(e["reason"], 0) + 1
    return {
        "units": len(pool.get("units", [])),
        "per_stratum": per_stratum,
        "inspectors": len(pool.get("inspectors", [])),
        "quotas": pool.get("quotas", {}),
        "drawn": drawn,
        "drawn_total": len(draw.result or []),
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
    completed: int  # units with a completed (submitted) inspection for the plan's item this year
    pending: int  # units drawn for the plan's item this year whose inspection is not completed yet
    monthly_quota: int  # special plans: the fixed quota; routine plans: the next period's expected quota
    out_of_year: int = 0  # units still to cover that cannot be drawn again before the plan's last month

    @property
    def drawn(self) -> int:
        """Units drawn for the item this year (completed or not)."""
        return self.completed + self.pending

    @property
    def remaining(self) -> int:
        """Units still to be drawn to reach the annual target."""
        return max(0, self.annual_target - self.drawn)

    @property
    def coverage_pct(self) -> int:
        """Completed inspections as a whole percentage of the stratum (rounded down)."""
        return self.completed * 100 // self.total if self.total else 0


@dataclass
class MonthRow:
    period: str
    month: int
    draws: list[Draw]
    drawable: bool  # not in the past and no live draw yet
    quota: int = 0  # the live draw's frozen quotas, all strata
    drawn: int = 0  # tasks the live draw made
    completed: int = 0  # of them, inspections completed

    @property
    def live(self) -> Draw | None:
        return next((d for d in self.draws if d.status != DrawStatus.ABANDONED), None)


@dataclass
class Progress:
    rows: list[ProgressRow]
    months: list[MonthRow]
    months_left: int
    next_period: str | None

    @property
    def out_of_year(self) -> int:
        return sum(r.out_of_year for r in self.rows)


def _item_progress(plan: Plan, conds: list) -> tuple[dict[str, int], dict[str, int]]:
    """Per stratum: units with a completed inspection for the plan's item this year, and units drawn for it whose
    inspection is still pending. Drawn tasks (routine, special) only; cancelled tasks do not count."""
    year_start, year_end = dt.date(plan.year, 1, 1), dt.date(plan.year, 12, 31)
    per_unit = (
        select(
            Task.unit_id.label("unit_id"),
            func.max(case((Task.status == TaskStatus.SUBMITTED, 1), else_=0)).label("completed"),
        )
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .where(
            ItemVersion.item_id == plan.item_id,
            Task.kind.in_(plan_rules.DRAWN_KINDS),
            Task.status != TaskStatus.CANCELLED,
            Task.planned_date >= year_start,
            Task.planned_date <= year_end,
        )
        .group_by(Task.unit_id)
        .subquery()
    )
    completed: dict[str, int] = {}
    pending: dict[str, int] = {}
    for ucls, crowded, n, n_completed in db.session.execute(
        select(Unit.unit_class, Unit.crowded, func.count(Unit.id), func.sum(per_unit.c.completed))
        .join(per_unit, per_unit.c.unit_id == Unit.id)
        .where(*conds)
        .group_by(Unit.unit_class, Unit.crowded)
    ):
        s = plan_rules.stratum_of(ucls, bool(crowded))
        if s is not None:
            completed[s] = completed.get(s, 0) + int(n_completed or 0)
            pending[s] = pending.get(s, 0) + n - int(n_completed or 0)
    return completed, pending


def _out_of_year(plan: Plan, conds: list) -> dict[str, int]:
    """Per stratum: units not yet drawn for the item this year that cannot be drawn before the plan's last month
    (inspected twice this year, or inside their six-month gap until after it) — the rule of plans.eligibility."""
    year_start, year_end = dt.date(plan.year, 1, 1), dt.date(plan.year, 12, 31)
    cutoff = plan_rules.add_months(dt.date(plan.year, plan.end_month, 1), -plan_rules.MIN_INTERVAL_MONTHS)
    in_year = and_(Task.planned_date >= year_start, Task.planned_date <= year_end)
    hist = (
        select(
            Task.unit_id.label("unit_id"),
            func.sum(case((in_year, 1), else_=0)).label("n_year"),
            func.max(Task.planned_date).label("last"),
        )
        .where(
            Task.kind.in_(plan_rules.DRAWN_KINDS),
            Task.status != TaskStatus.CANCELLED,
            Task.planned_date >= min(year_start, cutoff),
        )
        .group_by(Task.unit_id)
        .subquery()
    )
    done_for_item = (
        select(Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .where(
            ItemVersion.item_id == plan.item_id,
            Task.kind.in_(plan_rules.DRAWN_KINDS),
            Task.status != TaskStatus.CANCELLED,
            in_year,
        )
    )
    out: dict[str, int] = {}
    for ucls, crowded, n in db.session.execute(
        select(Unit.unit_class, Unit.crowded, func.count(Unit.id))
        .join(hist, hist.c.unit_id == Unit.id)
        .where(
            *conds,
            or_(hist.c.n_year >= plan_rules.MAX_PER_YEAR, hist.c.last > cutoff),
            Unit.id.not_in(done_for_item),
        )
        .group_by(Unit.unit_class, Unit.crowded)
    ):
        s = plan_rules.stratum_of(ucls, bool(crowded))
        if s is not None:
            out[s] = out.get(s, 0) + n
    return out


def _draw_counts(draw_ids: list[int]) -> dict[int, tuple[int, int]]:
    """draw id → (tasks, tasks whose inspection is completed)."""
    if not draw_ids:
        return {}
    q = (
        select(Task.draw_id, func.count(Task.id), func.sum(case((Task.status == TaskStatus.SUBMITTED, 1), else_=0)))
        .where(Task.draw_id.in_(draw_ids))
        .group_by(Task.draw_id)
    )
    return {draw_id: (n, int(done or 0)) for draw_id, n, done in db.session.execute(q)}


def plan_progress(plan: Plan, today: dt.date) -> Progress:
    """Annual target, completed and pending inspections for the plan's item, remaining and months left per stratum,
    and each month's quota against what its draw made (cheap counts only).

    Completed: units with a submitted inspection of a drawn task for this item this year. Pending: drawn for this
    item this year, not completed yet. Units of other object types than the item's are not counted at all. The
    exact quota of a period is on the eligibility page.
    """
    conds = [
        *plan_rules.unit_conditions(plan, types=plan_rules.target_types(plan)),
        Unit.status == UnitStatus.ACTIVE,
        Unit.unit_class.is_not(None),
    ]
    totals: dict[str, int] = {}
    for ucls, crowded, n in db.session.execute(
        select(Unit.unit_class, Unit.crowded, func.count(Unit.id)).where(*conds).group_by(Unit.unit_class, Unit.crowded)
    ):
        s = plan_rules.stratum_of(ucls, bool(crowded))
        if s is not None:  # never: the class is not missing (conds)
            totals[s] = totals.get(s, 0) + n
    completed, pending = _item_progress(plan, conds)
    out_of_year = _out_of_year(plan, conds)

    draws = plan_draws(plan)
    counts = _draw_counts([d.id for d in draws if d.status != DrawStatus.ABANDONED])
    this_month = (today.year, today.month)
    months = []
    for m in range(plan.start_month, plan.end_month + 1):
        period = period_of(plan.year, m)
        ds = [d for d in draws if d.status != DrawStatus.ABANDONED and d.period == period]
        ds += [d for d in draws if d.status == DrawStatus.ABANDONED and d.period == period]
        row = MonthRow(period, m, sorted(ds, key=lambda d: d.committed_at), drawable=False)
        live = row.live
        row.drawable = (plan.year, m) >= this_month and live is None
        if live is not None:
            row.quota = sum(int(q) for q in ((live.pool or {}).get("quotas") or {}).values())
            row.drawn, row.completed = counts.get(live.id, (0, 0))
        months.append(row)
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
        fig = plan_rules.StratumFigures(
            s,
            total=totals.get(s, 0),
            target_pct=pct,
            done_this_year=completed.get(s, 0) + pending.get(s, 0),
            out_of_year=out_of_year.get(s, 0),
        )
        fig.annual_target = math.ceil(fig.total * pct / 100)  # as plans.eligibility
        figures[s] = fig
    quotas = plan_rules.monthly_quotas(plan, figures, next_row.month) if next_row else {}
    rows = [
        ProgressRow(
            stratum=s,
            target_pct=f.target_pct,
            total=f.total,
            annual_target=f.annual_target,
            completed=completed.get(s, 0),
            pending=pending.get(s, 0),
            monthly_quota=quotas.get(s, 0),
            out_of_year=f.out_of_year,
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
