"""Read-only look-ups for the public item list (随机抽查事项清单) and annual plans (年度抽查计划).

Only active items (their current version) and non-draft plans are public. Nothing here names a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.auth.models import Organisation
from webapp.catalog.models import Item, ItemVersion
from webapp.draw.models import Draw, Plan, PlanStatus
from webapp.draw.plans import STRATA
from webapp.draw.services import PUBLIC_STATUSES
from webapp.extensions import db
from webapp.public.queries import etag_for


@dataclass
class PublicItem:
    code: str
    version: int
    name: str
    basis: str
    subject: str
    target: str
    category: str
    methods: str
    ratio_frequency: str


@dataclass
class OrgItems:
    org_name: str
    items: list[PublicItem] = field(default_factory=list)


def item_list() -> list[OrgItems]:
    """Every organisation's active items with their current version, grouped by organisation."""
    latest = select(ItemVersion.item_id, func.max(ItemVersion.version).label("v")).group_by(ItemVersion.item_id)
    latest = latest.subquery()
    q = (
        select(Organisation.name, Item.code, ItemVersion)
        .join(Item, Item.org_id == Organisation.id)
        .join(latest, latest.c.item_id == Item.id)
        .join(ItemVersion, (ItemVersion.item_id == Item.id) & (ItemVersion.version == latest.c.v))
        .where(Item.active.is_(True))
        .order_by(Organisation.name, Item.code)
    )
    groups: dict[str, OrgItems] = {}
    for org_name, code, v in db.session.execute(q):
        groups.setdefault(org_name, OrgItems(org_name)).items.append(
            PublicItem(code, v.version, v.name, v.basis, v.subject, v.target, v.category, v.methods, v.ratio_frequency)
        )
    return list(groups.values())


def items_version(groups: list[OrgItems]) -> tuple[str, dt.datetime | None]:
    """The list itself is the version (a few dozen small rows); the newest item version is the last change."""
    last_at = db.session.execute(select(func.max(ItemVersion.created_at))).scalar()
    return etag_for("items", *(repr(g) for g in groups)), last_at


@dataclass
class PublicDrawLink:
    public_id: str
    period: str
    status: str


@dataclass
class PublicPlan:
    public_id: str
    org_name: str
    year: int
    name: str
    kind: str
    item_name: str
    start_month: int
    end_month: int
    targets: list[tuple[str, int]]  # (stratum, %/year) for routine plans
    quotas: list[tuple[str, int]]  # (stratum, tasks/month) for special plans
    draws: list[PublicDrawLink] = field(default_factory=list)


def plan_years() -> list[int]:
    q = select(Plan.year).where(Plan.status != PlanStatus.DRAFT).distinct().order_by(Plan.year.desc())
    return list(db.session.execute(q).scalars())


def plan_list(year: int | None) -> list[PublicPlan]:
    """Non-draft plans of ``year`` (all years if ``None``), by organisation, with their public draws."""
    q = (
        select(Plan, Organisation.name)
        .join(Organisation, Organisation.id == Plan.org_id)
        .where(Plan.status != PlanStatus.DRAFT)
        .order_by(Plan.year.desc(), Organisation.name, Plan.id)
    )
    if year is not None:
        q = q.where(Plan.year == year)
    plans: list[PublicPlan] = []
    by_id: dict[int, PublicPlan] = {}
    for plan, org_name in db.session.execute(q):
        current = db.session.get(Item, plan.item_id).current
        p = PublicPlan(
            plan.public_id,
            org_name,
            plan.year,
            plan.name,
            plan.kind.value,
            current.name,
            plan.start_month,
            plan.end_month,
            [(s, int((plan.targets or {}).get(s, 0))) for s in STRATA if (plan.targets or {}).get(s)],
            [(s, int((plan.monthly_quotas or {}).get(s, 0))) for s in STRATA if (plan.monthly_quotas or {}).get(s)],
        )
        plans.append(p)
        by_id[plan.id] = p
    if by_id:
        draws = select(Draw.plan_id, Draw.public_id, Draw.period, Draw.status).where(
            Draw.plan_id.in_(by_id), Draw.status.in_(PUBLIC_STATUSES)
        )
        for plan_id, public_id, period, status in db.session.execute(draws.order_by(Draw.period, Draw.id)):
            by_id[plan_id].draws.append(PublicDrawLink(public_id, period, status.value))
    return plans


def plans_version(plans: list[PublicPlan]) -> str:
    return etag_for("plans", *(repr(p) for p in plans))
