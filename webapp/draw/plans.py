"""Annual plans → monthly quotas, and eligibility: who may be drawn this period and why not.

Nothing here draws: it builds the pool that the ceremony freezes (DRAW_SPEC section 4 and 5).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import String, case, func, select, text, type_coerce

from webapp import calendar
from webapp.draw.models import Draw, DrawStatus, Plan, PlanKind
from webapp.extensions import db
from webapp.registry.models import CreditLevel, RiskLevel, Unit, UnitClass, UnitStatus
from webapp.registry.units.queries import STRATA, stratum_of
from webapp.tasks.models import Task, TaskKind, TaskStatus

# Coverage per year (seed 001; seed 000 states key units 100 %). Percent of the stratum.
DEFAULT_TARGETS = {"key_crowded": 100, "key": 80, "general": 20, "nine_small": 20, "other": 0}
JOINT_TARGETS = dict.fromkeys(STRATA, 2)  # 消防产品质量联合抽查: 抽查比例不小于2% (seed 002)
# 浮动管理 (seeds 000, 001, 004): risk sets the base weight, poor credit, complaints and serious violations raise it.
DEFAULT_WEIGHTS = {
    "risk": {"red": 200, "yellow": 150, "blue": 100, "green": 50},
    "credit": {"poor": 50, "normal": 0, "good": -25},
    "complaint_each": 10,
    "complaint_max": 100,
    "serious_violation": 100,
}
DEFAULT_SLOTS = [{"dept": "fire", "role": "lead"}, {"dept": "fire", "role": "assist"}]
JOINT_SLOTS = [{"dept": "fire", "role": "lead"}, {"dept": "fire", "role": "assist"}, {"dept": "market", "role": "lead"}]
DRAWN_KINDS = (TaskKind.ROUTINE, TaskKind.SPECIAL)  # re-inspections and complaints don't count
MIN_INTERVAL_MONTHS = 6
MAX_PER_YEAR = 2


def unit_weight(weights: dict, risk: RiskLevel, credit: CreditLevel, complaints: int, serious: bool) -> int:
    w = weights.get("risk", {}).get(risk.value, 100)
    w += weights.get("credit", {}).get(credit.value, 0)
    w += min(complaints * weights.get("complaint_each", 0), weights.get("complaint_max", 0))
    if serious:
        w += weights.get("serious_violation", 0)
    return max(1, min(1000, int(w)))


def parse_period(period: str) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in period.split("-"))
        dt.date(year, month, 1)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"period must be YYYY-MM, got {period!r}") from exc
    return year, month


def add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.month_bounds(year, month)[1].day))


@dataclass
class StratumFigures:
    stratum: str
    total: int = 0  # active units of the stratum in the plan's area
    target_pct: int = 0
    annual_target: int = 0
    done_this_year: int = 0  # units with at least one drawn task this year
    eligible: int = 0
    quota: int = 0


@dataclass
class Eligibility:
    period: str
    working_days: list[str]
    strata: dict[str, StratumFigures]
    units: list[dict]  # pool units as in the bundle
    excluded: list[dict]  # [{"unit_id", "reason"}]
    inspectors: list[dict]  # pool inspectors as in the bundle
    inspector_excluded: list[dict]  # [{"inspector_id", "name", "reasons"}]
    quotas: dict[str, int]
    slots: list[dict]
    unit_names: dict[str, str] = field(default_factory=dict)
    inspector_names: dict[str, str] = field(default_factory=dict)

    def pool(self) -> dict:
        return {
            "units": self.units,
            "inspectors": self.inspectors,
            "quotas": self.quotas,
            "slots": self.slots,
            "working_days": self.working_days,
        }

    @property
    def task_count(self) -> int:
        counts: dict[str, int] = {}
        for u in self.units:
            counts[u["stratum"]] = counts.get(u["stratum"], 0) + 1
        return sum(min(q, counts.get(s, 0)) for s, q in self.quotas.items())


def _history(unit_org_ids: list[int], year: int, since: dt.date) -> dict[int, tuple[int, dt.date | None]]:
    """unit id → (drawn tasks planned this calendar year, latest planned date since ``since``)."""
    year_start = dt.date(year, 1, 1)
    q = (
        select(
            Task.unit_id,
            func.sum(case((Task.planned_date >= year_start, 1), else_=0)),
            func.max(Task.planned_date),
        )
        .join(Unit, Unit.id == Task.unit_id)
        .where(
            Unit.org_id.in_(unit_org_ids),
            Task.kind.in_(DRAWN_KINDS),
            Task.status != TaskStatus.CANCELLED,
            Task.planned_date >= min(year_start, since),
        )
        .group_by(Task.unit_id)
    )
    return {uid: (int(n or 0), last) for uid, n, last in db.session.execute(q)}


def _drawn_this_period(plan: Plan, period: str) -> set[int]:
    q = (
        select(Task.unit_id)
        .join(Draw, Draw.id == Task.draw_id)
        .join(Plan, Plan.id == Draw.plan_id)
        .where(Draw.period == period, Draw.status != DrawStatus.ABANDONED, Plan.item_id == plan.item_id)
    )
    return set(db.session.execute(q).scalars())


def monthly_quotas(plan: Plan, strata: dict[str, StratumFigures], month: int) -> dict[str, int]:
    if plan.kind == PlanKind.SPECIAL:
        return {s: int(n) for s, n in (plan.monthly_quotas or {}).items() if int(n) > 0}
    months_left = max(1, plan.end_month - month + 1)
    months_total = max(1, plan.end_month - plan.start_month + 1)
    quotas = {}
    for s, f in strata.items():
        if f.annual_target <= 0:
            continue
        if f.target_pct >= 100:  # mandatory coverage: what is left, spread over the months left
            quota = math.ceil(max(0, f.annual_target - f.done_this_year) / months_left)
        else:
            quota = min(math.ceil(f.annual_target / months_total), max(0, f.annual_target - f.done_this_year))
        if quota > 0:
            quotas[s] = quota
    return quotas


def eligibility(plan: Plan, period: str, today: dt.date | None = None) -> Eligibility:
    """The pool for ``plan`` in ``period`` with every exclusion and its reason. Reads, never writes."""
    from webapp.draw.pool import inspector_pool

    year, month = parse_period(period)
    first, last = calendar.month_bounds(year, month)
    overrides = calendar.db_overrides(first, last)
    days = [d.isoformat() for d in calendar.working_days(first, last, overrides)]
    interval_since = add_months(first, -MIN_INTERVAL_MONTHS)
    history = _history(plan.unit_org_ids, year, interval_since)
    drawn_now = _drawn_this_period(plan, period)
    targets = plan.targets or {}
    strata = {s: StratumFigures(s, target_pct=int(targets.get(s, 0))) for s in STRATA}
    flt = plan.pool_filter or {}

    # Enum columns are read as their stored strings (the StrEnum values) and mapped once per distinct
    # value below: converting 4 values per row into enum members roughly doubled the pool read.
    cols = (
        Unit.id,
        Unit.public_id,
        Unit.name,
        type_coerce(Unit.unit_class, String),
        Unit.crowded,
        type_coerce(Unit.risk_level, String),
        type_coerce(Unit.credit_level, String),
        Unit.complaint_count,
        Unit.serious_violation,
        type_coerce(Unit.status, String),
    )
    q = select(*cols).where(Unit.org_id.in_(plan.unit_org_ids))
    if db.session.get_bind().dialect.name == "sqlite":
        # The same order; "+" keeps SQLite from walking the public_id index row by row (a scan and a
        # sort is about twice as fast for the whole pool).
        q = q.order_by(text("+unit.public_id"))
    else:
        q = q.order_by(Unit.public_id)
    if flt.get("unit_classes"):
        q = q.where(Unit.unit_class.in_([UnitClass(c) for c in flt["unit_classes"]]))
    if flt.get("regions"):
        q = q.where(Unit.region.in_(flt["regions"]))
    if flt.get("industries"):
        q = q.where(Unit.industry.in_(flt["industries"]))
    if flt.get("crowded_only"):
        q = q.where(Unit.crowded.is_(True))

    units: list[dict] = []
    excluded: list[dict] = []
    names: dict[str, str] = {}
    weights = plan.weights or DEFAULT_WEIGHTS
    strata_of: dict[tuple[str | None, bool], str | None] = {}
    weight_of: dict[tuple[str, str, int, bool], int] = {}
    status_reason = {UnitStatus.CLOSED.value: "closed"}
    active = UnitStatus.ACTIVE.value
    for uid, pid, name, ucls, crowded, risk, credit, complaints, serious, status in db.session.execute(q):
        names[pid] = name
        if status != active:
            excluded.append({"unit_id": pid, "reason": status_reason.get(status, "zombie")})
            continue
        try:
            stratum = strata_of[(ucls, crowded)]
        except KeyError:
            stratum = strata_of[(ucls, crowded)] = stratum_of(None if ucls is None else UnitClass(ucls), crowded)
        if stratum is None:
            excluded.append({"unit_id": pid, "reason": "class_missing"})
            continue
        fig = strata[stratum]
        fig.total += 1
        n_year, last_date = history.get(uid, (0, None))
        if n_year:
            fig.done_this_year += 1
        if uid in drawn_now:
            reason = "already_drawn"
        elif n_year >= MAX_PER_YEAR:
            reason = "twice_this_year"
        elif last_date is not None and last_date > interval_since:
            reason = "less_than_6_months"
        elif fig.target_pct >= 100 and n_year >= 1 and plan.kind == PlanKind.ROUTINE:
            reason = "done_this_year"
        else:
            reason = None
        if reason:
            excluded.append({"unit_id": pid, "reason": reason})
            continue
        fig.eligible += 1
        wkey = (risk, credit, complaints, serious)
        weight = weight_of.get(wkey)
        if weight is None:
            weight = weight_of[wkey] = unit_weight(weights, RiskLevel(risk), CreditLevel(credit), complaints, serious)
        units.append({"id": pid, "stratum": stratum, "weight": weight})

    for fig in strata.values():
        fig.annual_target = math.ceil(fig.total * fig.target_pct / 100)
    quotas = monthly_quotas(plan, strata, month)
    for s, f in strata.items():
        f.quota = quotas.get(s, 0)

    depts = sorted({s["dept"] for s in plan.slots})
    inspectors, insp_excluded = inspector_pool(set(plan.inspector_org_ids), depts, first, last)
    inspectors = sorted(inspectors, key=lambda i: i["id"])
    insp_names = {i["id"]: i.get("name", "") for i in inspectors} | {
        i["inspector_id"]: i.get("name", "") for i in insp_excluded
    }
    pool_inspectors = [
        {k: i[k] for k in ("id", "dept", "can_lead", "weight", "conflicts", "unavailable")} for i in inspectors
    ]
    return Eligibility(
        period=period,
        working_days=days,
        strata=strata,
        units=units,
        excluded=excluded,
        inspectors=pool_inspectors,
        inspector_excluded=insp_excluded,
        quotas=quotas,
        slots=[{"dept": s["dept"], "role": s["role"]} for s in plan.slots],
        unit_names=names,
        inspector_names=insp_names,
    )
