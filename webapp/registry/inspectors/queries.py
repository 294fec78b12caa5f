"""Inspectors (执法检查人员名录库): reads for the supervisor pages — list, search, get, history.

Plain functions over ``db.session``; nothing here reads the request or writes. Whether an inspector may be
drawn is the draw's rule (``webapp.draw.pool``); the list's pool filter below is its SQL shadow for the
current month (certificate, freeze, leave).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select

from webapp import calendar
from webapp.auth.access import can_manage_org, visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.extensions import db
from webapp.registry.audit import queries as audit_queries
from webapp.registry.inspectors.columns import allowed_posts
from webapp.registry.labels import INSPECTOR_POOL_FILTER, POSTS
from webapp.registry.models import Inspector, InspectorConflict, InspectorStatus, InspectorUnavailability, Unit
from webapp.registry.sorting import Sort, ordered_page

MAX_QUERY_LEN = 100
EXPIRY_WARNING_DAYS = 30
UNIT_OPTIONS_LIMIT = 8
POOL_FILTERS = INSPECTOR_POOL_FILTER
STATUS_FILTERS = ("", *(s.value for s in InspectorStatus))


def covered_days(periods: Iterable[tuple[dt.date, dt.date]], start: dt.date, end: dt.date) -> set[dt.date]:
    """Days of [start, end] inside any of ``periods`` (inclusive date ranges)."""
    days: set[dt.date] = set()
    for p_start, p_end in periods:
        lo, hi = max(p_start, start), min(p_end, end)
        for n in range((hi - lo).days + 1):
            days.add(lo + dt.timedelta(days=n))
    return days


@dataclass
class InspectorFilters:
    """What the list shows. Parsed leniently from query arguments: unknown values fall back to 'any'."""

    q: str = ""
    org: int | None = None
    post: str = ""
    status: str = ""  # "" (all) | "active" | "frozen"
    pool: str = ""  # "" | one of POOL_FILTERS
    sort: Sort = field(default_factory=Sort)  # the desk table's column order (?sort=…&dir=…)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InspectorFilters:
        org_raw = (args.get("org") or "").strip()
        post = (args.get("post") or "").strip()
        status = (args.get("status") or "").strip()
        pool = (args.get("pool") or "").strip()
        return cls(
            q=" ".join((args.get("q") or "").split())[:MAX_QUERY_LEN],
            org=int(org_raw) if org_raw.isdigit() else None,
            post=post if post in POSTS else "",
            status=status if status in STATUS_FILTERS else "",
            pool=pool if pool in POOL_FILTERS else "",
            sort=Sort.from_args(args, SORT_COLUMNS),
        )

    def to_args(self) -> dict[str, str]:
        out = {name: getattr(self, name) for name in ("q", "post", "status", "pool") if getattr(self, name)}
        if self.org is not None:
            out["org"] = str(self.org)
        out.update(self.sort.to_args())
        return out

    @property
    def count(self) -> int:
        """Number of filters set besides the search text (the "筛选（n）" summary)."""
        return sum(1 for name in ("post", "status", "pool") if getattr(self, name)) + (self.org is not None)


# The desk table's sortable columns, as expressions that are never NULL (see webapp.registry.sorting).
SORT_COLUMNS: dict[str, Any] = {
    "name": Inspector.name,
    "org": func.coalesce(select(Organisation.name).where(Organisation.id == Inspector.org_id).scalar_subquery(), ""),
    "post": Inspector.post,
    "cert": func.coalesce(Inspector.cert_valid_until, dt.date(1, 1, 1)),
    "status": Inspector.status,
}


@dataclass
class InspectorRow:
    inspector: Inspector
    cert_state: str  # "valid" | "expiring" (within 30 days) | "expired" | "missing"
    unavailable_this_month: bool


@dataclass
class InspectorPage:
    rows: list[InspectorRow]
    next_after: int | None
    count: int


def _scoped(user: User, stmt: Select) -> Select:
    ids = visible_org_ids(user)
    return stmt if ids is None else stmt.where(Inspector.org_id.in_(sorted(ids)))


def _search_condition(q: str) -> ColumnElement[bool]:
    """Every word must appear in the name or the certificate number (case-insensitive, partial)."""
    terms = []
    for word in q.split():
        terms.append(
            or_(
                Inspector.name.icontains(word, autoescape=True),
                Inspector.cert_no.icontains(word.upper(), autoescape=True),
            )
        )
    return and_(*terms)


def _overlapping(start: dt.date, end: dt.date) -> Select:
    return select(InspectorUnavailability.inspector_id).where(
        InspectorUnavailability.cancelled.is_(False),
        InspectorUnavailability.start_date <= end,
        InspectorUnavailability.end_date >= start,
    )


def _unavailable_all_month_ids(user: User, start: dt.date, end: dt.date) -> set[int]:
    """Inspectors (of the user's organisations) whose leave covers every day of [start, end]: one query."""
    stmt = _scoped(
        user,
        select(
            InspectorUnavailability.inspector_id, InspectorUnavailability.start_date, InspectorUnavailability.end_date
        )
        .join(Inspector, Inspector.id == InspectorUnavailability.inspector_id)
        .where(
            InspectorUnavailability.cancelled.is_(False),
            InspectorUnavailability.start_date <= end,
            InspectorUnavailability.end_date >= start,
        ),
    )
    periods: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for iid, p_start, p_end in db.session.execute(stmt):
        periods.setdefault(iid, []).append((p_start, p_end))
    days = (end - start).days + 1
    return {iid for iid, ps in periods.items() if len(covered_days(ps, start, end)) == days}


def _filtered(user: User, f: InspectorFilters, today: dt.date) -> Select:
    stmt = _scoped(user, select(Inspector))
    if f.org is not None:
        stmt = stmt.where(Inspector.org_id == f.org)
    if f.q:
        stmt = stmt.where(_search_condition(f.q))
    if f.post:
        stmt = stmt.where(Inspector.post == f.post)
    if f.status:
        stmt = stmt.where(Inspector.status == InspectorStatus(f.status))
    first, last = calendar.this_month(today)
    if f.pool == "in":
        away = _unavailable_all_month_ids(user, first, last)
        stmt = stmt.where(
            Inspector.status == InspectorStatus.ACTIVE,
            Inspector.cert_no.is_not(None),
            Inspector.cert_valid_until >= last,
        )
        if away:
            stmt = stmt.where(Inspector.id.not_in(sorted(away)))
    elif f.pool == "cert":
        stmt = stmt.where(
            or_(Inspector.cert_no.is_(None), Inspector.cert_valid_until.is_(None), Inspector.cert_valid_until < last)
        )
    elif f.pool == "frozen":
        stmt = stmt.where(Inspector.status == InspectorStatus.FROZEN)
    elif f.pool == "unavailable":
        stmt = stmt.where(Inspector.id.in_(_overlapping(first, last)))
    return stmt


def cert_state(inspector: Inspector, today: dt.date | None = None) -> str:
    """ "missing", "expired", "expiring" (within 30 days) or "valid"."""
    day = today or calendar.today()
    if not inspector.cert_no or inspector.cert_valid_until is None:
        return "missing"
    if inspector.cert_valid_until < day:
        return "expired"
    if inspector.cert_valid_until <= day + dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return "expiring"
    return "valid"


def list_inspectors(
    user: User, f: InspectorFilters, after: int | None = None, page_size: int = 50, today: dt.date | None = None
) -> InspectorPage:
    """One page of matching inspectors, newest first or in ``f.sort``'s order, keyset-paged after the row
    ``after``; a constant number of queries."""
    today = today or calendar.today()
    stmt = _filtered(user, f, today)
    page_stmt = ordered_page(
        stmt.options(selectinload(Inspector.org)), f.sort, SORT_COLUMNS, Inspector.id, after, page_size + 1
    )
    found = list(db.session.execute(page_stmt).scalars())
    more = len(found) > page_size
    found = found[:page_size]
    count = db.session.execute(
        select(func.count()).select_from(stmt.with_only_columns(Inspector.id).order_by(None).subquery())
    ).scalar_one()
    first, last = calendar.this_month(today)
    away: set[int] = set()
    if found:
        away = set(
            db.session.execute(
                _overlapping(first, last).where(InspectorUnavailability.inspector_id.in_([i.id for i in found]))
            ).scalars()
        )
    rows = [InspectorRow(i, cert_state(i, today), i.id in away) for i in found]
    return InspectorPage(rows=rows, next_after=found[-1].id if more and found else None, count=count)


def get_inspector(user: User, public_id: str) -> Inspector | None:
    """The inspector if they belong to the user's organisation subtree, else None (→ 404)."""
    insp = db.session.execute(select(Inspector).where(Inspector.public_id == public_id)).scalar_one_or_none()
    if insp is None or not can_manage_org(user, insp.org_id):
        return None
    return insp


def posts_for(orgs: Iterable[Organisation]) -> list[str]:
    """The posts people of these organisations can hold, in the order of labels.POSTS."""
    allowed: set[str] = set()
    for org in orgs:
        allowed |= set(allowed_posts(org.dept))
    return [p for p in POSTS if p in allowed] or list(POSTS)


def search_units(user: User, q: str, limit: int = UNIT_OPTIONS_LIMIT) -> list[Unit]:
    """Units the user may see whose name (or USCC) contains every word of ``q``; a short list to pick from."""
    q = " ".join((q or "").split())[:MAX_QUERY_LEN]
    if not q:
        return []
    stmt = select(Unit)
    ids = visible_org_ids(user)
    if ids is not None:
        stmt = stmt.where(Unit.org_id.in_(sorted(ids)))
    for word in q.split():
        stmt = stmt.where(
            or_(Unit.name.icontains(word, autoescape=True), Unit.uscc.icontains(word.upper(), autoescape=True))
        )
    stmt = stmt.order_by(func.length(Unit.name), Unit.name, Unit.id).limit(limit)
    return list(db.session.execute(stmt).scalars())


def get_period(insp: Inspector, period_id: int) -> InspectorUnavailability | None:
    period = db.session.get(InspectorUnavailability, period_id)
    return period if period is not None and period.inspector_id == insp.id else None


def get_conflict(insp: Inspector, conflict_id: int) -> InspectorConflict | None:
    conflict = db.session.get(InspectorConflict, conflict_id)
    return conflict if conflict is not None and conflict.inspector_id == insp.id else None


def conflicts_of(insp: Inspector) -> list[InspectorConflict]:
    """Active conflicts first, then withdrawn ones; units loaded with them."""
    stmt = (
        select(InspectorConflict)
        .where(InspectorConflict.inspector_id == insp.id)
        .options(selectinload(InspectorConflict.unit))
        .order_by(InspectorConflict.active.desc(), InspectorConflict.id.desc())
    )
    return list(db.session.execute(stmt).scalars())


def periods_of(insp: Inspector) -> list[InspectorUnavailability]:
    """Current and future periods first (by start), then past and cancelled ones."""
    stmt = select(InspectorUnavailability).where(InspectorUnavailability.inspector_id == insp.id)
    periods = list(db.session.execute(stmt).scalars())
    today = calendar.today()
    return sorted(periods, key=lambda p: (p.cancelled or p.end_date < today, p.start_date, p.id))


def usernames(*user_ids: int | None) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def history(user: User, insp: Inspector, limit: int = 200) -> list[audit_queries.EventView]:
    """Audit events of this inspector, newest first, as people read them (Chinese labels, usernames)."""
    return audit_queries.history(user, insp, limit)


def cancel_reasons(views: list) -> dict[int, str]:
    """period_id -> the reason it was cancelled, from the history already loaded."""
    out: dict[int, str] = {}
    for v in views:
        if v.event.action == "inspector.unavailable_cancelled":
            pid = audit_queries.payload(v.event).get("period_id")
            if isinstance(pid, int) and v.event.reason:
                out.setdefault(pid, v.event.reason)
    return out


def withdraw_reasons(views: list) -> dict[int, str]:
    """conflict_id -> the latest reason it was withdrawn."""
    out: dict[int, str] = {}
    for v in views:
        if v.event.action == "inspector.conflict_withdrawn":
            cid = audit_queries.payload(v.event).get("conflict_id")
            if isinstance(cid, int) and v.event.reason:
                out.setdefault(cid, v.event.reason)
    return out
