"""Annual plans → monthly quotas, and eligibility: who may be drawn this period and why not.

Nothing here draws: it builds the pool that the ceremony freezes (DRAW_SPEC section 4 and 5). The frame of an
item holds only units of its target types (检查对象类型); the others are not in it at all, not even as exclusions.
Coverage ("done") is counted per item; the frequency cap (twice a year, six months apart) per unit, over every item.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Select, String, case, func, select, text, type_coerce

from webapp import calendar
from webapp.catalog.models import ItemVersion
from webapp.draw.labels import EXCLUSION
from webapp.draw.models import Draw, DrawStatus, Plan, PlanKind
from webapp.extensions import db
from webapp.registry.models import CreditLevel, ObjectType, RiskLevel, Unit, UnitClass, UnitStatus
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


def period_label(period: str) -> str:
    """A period as people write it: 2027-03 → 2027年3月."""
    year, month = parse_period(period)
    return _("%(y)d年%(m)d月", y=year, m=month)


def drawable_from(last: dt.date) -> str:
    """The first period in which a unit last inspected (drawn task planned) on ``last`` may be drawn again.

    The six-month rule of :func:`eligibility`: drawable in a month whose first day, less six months, is on or
    after ``last``.
    """
    months = last.year * 12 + last.month - 1 + MIN_INTERVAL_MONTHS + (0 if last.day == 1 else 1)
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


@dataclass
class StratumFigures:
    stratum: str
    total: int = 0  # active units of the stratum in the plan's area and target types
    target_pct: int = 0
    annual_target: int = 0
    done_this_year: int = 0  # units with a drawn task (not cancelled) for the plan's item this year
    eligible: int = 0
    quota: int = 0
    # Why the others are not drawable this period: reason code -> units of the stratum.
    excluded: dict[str, int] = field(default_factory=dict)
    gap_from: str | None = None  # earliest period in which a unit inside its six-month gap is drawable again
    out_of_year: int = 0  # units still to cover that cannot be drawn again before the plan's last month

    @property
    def to_draw(self) -> int:
        """What the period's draw will take: the quota, or every eligible unit when fewer."""
        return min(self.quota, self.eligible)

    @property
    def shortfall(self) -> int:
        return max(0, self.quota - self.eligible)

    def note(self) -> str | None:
        """Why fewer units than the quota (or none) can be drawn, and from which month they can; None if nothing
        is short."""
        blocked = self.total - self.eligible
        if not blocked or not (self.shortfall or self.eligible == 0):
            return None
        gap = self.excluded.get("less_than_6_months", 0)
        if self.eligible == 0 and gap == blocked and self.gap_from:
            return _("%(n)d家均在距上次检查不满六个月内，最早%(month)s可抽取", n=gap, month=period_label(self.gap_from))
        parts = []
        if gap and self.gap_from:
            parts.append(
                _("%(n)d家距上次检查不满六个月，最早%(month)s可抽取", n=gap, month=period_label(self.gap_from))
            )
        twice = self.excluded.get("twice_this_year", 0)
        if twice:
            parts.append(_("%(n)d家本年度已抽查2次，下一年度起可抽取", n=twice))
        for reason in ("done_this_year", "already_drawn"):
            if self.excluded.get(reason):
                parts.append(_("%(n)d家%(why)s", n=self.excluded[reason], why=EXCLUSION[reason]))
        if not parts:
            return None
        if self.eligible == 0:
            head = _("本期没有可抽取的单位")
        else:
            head = _("配额%(q)d家，可抽取%(e)d家", q=self.quota, e=self.eligible)
        return head + "：" + "；".join(parts)


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
    unit_names: dict[str, str] = field(default_factory=dict)  # public id → name of each excluded unit
    inspector_names: dict[str, str] = field(default_factory=dict)
    target_types: list[ObjectType] = field(default_factory=list)  # the item's 检查对象类型
    other_types: int = 0  # units of the area (and filter) left out of the frame because of their type

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


def item_units_this_year(item_id: int, year: int) -> set[int]:
    """Units with a drawn task (not cancelled) for item ``item_id`` planned in calendar year ``year``."""
    q = (
        select(Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .where(
            ItemVersion.item_id == item_id,
            Task.kind.in_(DRAWN_KINDS),
            Task.status != TaskStatus.CANCELLED,
            Task.planned_date >= dt.date(year, 1, 1),
            Task.planned_date <= dt.date(year, 12, 31),
        )
        .distinct()
    )
    return set(db.session.execute(q).scalars())


def target_types(plan: Plan) -> list[ObjectType]:
    """The object types the plan's item (current version) draws from; 社会单位 when the item is missing."""
    item = plan.item
    return item.current.target_type_list if item is not None and item.versions else [ObjectType.SOCIAL_UNIT]


def unit_conditions(plan: Plan, *, types: list[ObjectType] | None = None) -> list:
    """SQL conditions of the plan's area and special-plan filter (``types``: the object types, None = any)."""
    flt = plan.pool_filter or {}
    conds: list = [Unit.org_id.in_(plan.unit_org_ids or [-1])]
    if types is not None:
        conds.append(Unit.object_type.in_(types))
    if flt.get("unit_classes"):
        conds.append(Unit.unit_class.in_([UnitClass(c) for c in flt["unit_classes"]]))
    if flt.get("regions"):
        conds.append(Unit.region.in_(flt["regions"]))
    if flt.get("industries"):
        conds.append(Unit.industry.in_(flt["industries"]))
    if flt.get("crowded_only"):
        conds.append(Unit.crowded.is_(True))
    return conds


def other_type_count(plan: Plan, types: list[ObjectType]) -> int:
    """Units of the plan's area and filter whose object type the item does not target (not in the frame)."""
    others = [t for t in ObjectType if t not in types]
    if not others:
        return 0
    q = select(func.count(Unit.id)).where(*unit_conditions(plan, types=others))
    return int(db.session.execute(q).scalar() or 0)


def _drawn_this_period(plan: Plan, period: str) -> set[int]:
    q = (
        select(Task.unit_id)
        .join(Draw, Draw.id == Task.draw_id)
        .join(Plan, Plan.id == Draw.plan_id)
        .where(Draw.period == period, Draw.status != DrawStatus.ABANDONED, Plan.item_id == plan.item_id)
    )
    return set(db.session.execute(q).scalars())


def monthly_quotas(plan: Plan, strata: dict[str, StratumFigures], month: int) -> dict[str, int]:
    """Tasks per stratum for ``month``. Units that cannot be drawn again before the plan's last month (inside their
    six-month gap until then, or inspected twice this year) are not counted in what is left to cover."""
    if plan.kind == PlanKind.SPECIAL:
        return {s: int(n) for s, n in (plan.monthly_quotas or {}).items() if int(n) > 0}
    months_left = max(1, plan.end_month - month + 1)
    months_total = max(1, plan.end_month - plan.start_month + 1)
    quotas = {}
    for s, f in strata.items():
        if f.annual_target <= 0:
            continue
        left = max(0, f.annual_target - f.done_this_year)
        reachable = max(0, min(left, f.total - f.done_this_year - f.out_of_year))
        if f.target_pct >= 100:  # mandatory coverage: what is left and reachable, spread over the months left
            quota = math.ceil(reachable / months_left)
        else:
            quota = min(math.ceil(f.annual_target / months_total), reachable)
        if quota > 0:
            quotas[s] = quota
    return quotas


def pool_query(plan: Plan, types: list[ObjectType] | None) -> Select:
    """The unit query of :func:`eligibility`: the frame's units in public-id order, one row each of
    ``(id, public_id, name, unit_class, crowded, risk_level, credit_level, complaint_count, serious_violation,
    status)``, the enum columns as their stored strings (the StrEnum values)."""
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
    q = select(*cols).where(*unit_conditions(plan, types=types))
    if db.session.get_bind().dialect.name == "sqlite":
        # The same order; "+" keeps SQLite from walking the public_id index row by row (a scan and a
        # sort is about twice as fast for the whole pool).
        return q.order_by(text("+unit.public_id"))
    # PostgreSQL: byte order, i.e. the code-point order the engine requires (DRAW_SPEC §5: units sorted by id)
    # whatever the database's collation, and, as on SQLite, a scan and a sort instead of walking the public_id
    # index (measured at 1 000 000 units: 2.0 s instead of 5.3 s on the server)
    return q.order_by(Unit.public_id.collate("C"))


def fetch_plain(q: Select) -> list[tuple]:
    """All rows of ``q`` as the database driver returns them: plain tuples, booleans possibly as 0/1, no enum
    or other result processing. For a million-row pool this costs about half of a typed fetch: the ORM's and
    SQLAlchemy's per-row work is most of the time of reading the pool. Runs on the session's connection
    (same transaction)."""
    result = db.session.connection().execute(q)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


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
    done_for_item = item_units_this_year(plan.item_id, year)
    last_period = f"{year:04d}-{plan.end_month:02d}"
    types = target_types(plan)
    targets = plan.targets or {}
    strata = {s: StratumFigures(s, target_pct=int(targets.get(s, 0))) for s in STRATA}

    rows = fetch_plain(pool_query(plan, types))

    units: list[dict] = []
    excluded: list[dict] = []
    names: dict[str, str] = {}
    weights = plan.weights or DEFAULT_WEIGHTS
    strata_of: dict[tuple[str | None, bool], str | None] = {}
    weight_of: dict[tuple[str, str, int, bool], int] = {}
    status_reason = {UnitStatus.CLOSED.value: "closed"}
    active = UnitStatus.ACTIVE.value
    with_history = drawn_now | done_for_item | history.keys()
    for uid, pid, name, ucls, crowded, risk, credit, complaints, serious, status in rows:
        if status != active:
            names[pid] = name
            excluded.append({"unit_id": pid, "reason": status_reason.get(status, "zombie")})
            continue
        try:
            stratum = strata_of[(ucls, crowded)]
        except KeyError:
            stratum = strata_of[(ucls, crowded)] = stratum_of(None if ucls is None else UnitClass(ucls), crowded)
        if stratum is None:
            names[pid] = name
            excluded.append({"unit_id": pid, "reason": "class_missing"})
            continue
        fig = strata[stratum]
        fig.total += 1
        if uid in with_history:  # most units have no drawn task at all: nothing below can exclude them
            n_year, last_date = history.get(uid, (0, None))
            done = uid in done_for_item
            if done:
                fig.done_this_year += 1
            if uid in drawn_now:
                reason = "already_drawn"
            elif n_year >= MAX_PER_YEAR:
                reason = "twice_this_year"
                if not done:
                    fig.out_of_year += 1
            elif last_date is not None and last_date > interval_since:
                reason = "less_than_6_months"
                again = drawable_from(last_date)
                fig.gap_from = again if fig.gap_from is None else min(fig.gap_from, again)
                if not done and again > last_period:
                    fig.out_of_year += 1
            elif fig.target_pct >= 100 and done and plan.kind == PlanKind.ROUTINE:
                reason = "done_this_year"
            else:
                reason = None
            if reason:
                names[pid] = name
                excluded.append({"unit_id": pid, "reason": reason})
                fig.excluded[reason] = fig.excluded.get(reason, 0) + 1
                continue
        fig.eligible += 1
        wkey = (risk, credit, complaints, serious)  # booleans may come as 0/1: the same keys, the same truth
        weight = weight_of.get(wkey)
        if weight is None:
            weight = weight_of[wkey] = unit_weight(weights, RiskLevel(risk), CreditLevel(credit), complaints, serious)
        units.append({"id": pid, "stratum": stratum, "weight": weight})

    for fig in strata.values():
        fig.annual_target = math.ceil(fig.total * fig.target_pct / 100)
    quotas = monthly_quotas(plan, strata, month)
    for s, f in strata.items():
        f.quota = quotas.get(s, 0)
        if f.eligible:  # every unit's stratum is a key of the pool's quotas, 0 included (DRAW_SPEC §3)
            quotas.setdefault(s, 0)

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
        target_types=types,
        other_types=other_type_count(plan, types),
    )
