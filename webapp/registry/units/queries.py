"""Units (检查对象名录库): reads for the supervisor pages — list, search, get, history, data quality, stratum.

Plain functions over ``db.session``; nothing here reads the request or writes.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, and_, case, event, func, literal, literal_column, or_, select, table
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from webapp.auth.access import visible_org_ids
from webapp.auth.models import Organisation, User
from webapp.db import utcnow
from webapp.extensions import db
from webapp.registry.audit import queries as audit_queries
from webapp.registry.models import CreditLevel, ObjectType, RiskLevel, Unit, UnitClass, UnitStatus
from webapp.registry.sorting import Sort, ordered_page
from webapp.registry.validation import clean_uscc

COUNT_CAP = 10_000  # beyond this the list says "超过10000个" instead of counting every row
QUALITY_FIELDS = ("address", "uscc", "safety_person", "unit_class")
SUSPECT_STALE_DAYS = 730  # "疑似僵尸单位": active, untouched for more than two years …
MAX_QUERY_LEN = 100
REGIONS_TTL = 60.0  # seconds a process keeps the region list of the filter (see visible_regions)
MISSING_CHOICES = ("any", *QUALITY_FIELDS)
_CODE_RE = re.compile(r"^[0-9A-Za-z]+$")
STATUS_FILTER_ALL = "all"


# --------------------------------------------------------------------------------------------- filters


@dataclass
class UnitFilters:
    """What the list shows. Parsed leniently from query arguments: unknown values fall back to 'any'."""

    q: str = ""
    object_type: str = ""  # an ObjectType value or "" (any)
    unit_class: str = ""
    crowded: str = ""  # "yes" | "no" | ""
    risk: str = ""
    credit: str = ""
    status: str = UnitStatus.ACTIVE.value  # a UnitStatus value or "all"
    region: str = ""
    missing: str = ""  # "" | "any" | one of QUALITY_FIELDS
    org: int | None = None
    suspect: bool = False
    sort: Sort = field(default_factory=Sort)  # the desk table's column order (?sort=…&dir=…)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> UnitFilters:
        def pick(name: str, allowed: tuple[str, ...], default: str = "") -> str:
            v = (args.get(name) or "").strip()
            return v if v in allowed else default

        org_raw = (args.get("org") or "").strip()
        return cls(
            q=" ".join((args.get("q") or "").split())[:MAX_QUERY_LEN],
            object_type=pick("object_type", tuple(ObjectType)),
            unit_class=pick("unit_class", tuple(UnitClass)),
            crowded=pick("crowded", ("yes", "no")),
            risk=pick("risk", tuple(RiskLevel)),
            credit=pick("credit", tuple(CreditLevel)),
            status=pick("status", (*UnitStatus, STATUS_FILTER_ALL), UnitStatus.ACTIVE.value),
            region=(args.get("region") or "").strip()[:100],
            missing=pick("missing", MISSING_CHOICES),
            org=int(org_raw) if org_raw.isdigit() else None,
            suspect=(args.get("suspect") or "") == "1",
            sort=Sort.from_args(args, SORT_COLUMNS),
        )

    def to_args(self) -> dict[str, str]:
        """The non-default values as query arguments (for the pager and for links)."""
        out: dict[str, str] = {}
        for name in ("q", "object_type", "unit_class", "crowded", "risk", "credit", "region", "missing"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.status != UnitStatus.ACTIVE.value:
            out["status"] = self.status
        if self.org is not None:
            out["org"] = str(self.org)
        if self.suspect:
            out["suspect"] = "1"
        out.update(self.sort.to_args())
        return out


def _blank(col) -> ColumnElement[bool]:
    return or_(col.is_(None), col == "")


def missing_condition(name: str) -> ColumnElement[bool]:
    """SQL condition: the unit lacks ``name`` (one of QUALITY_FIELDS) or, for "any", any of them."""
    if name == "any":
        return or_(*(missing_condition(f) for f in QUALITY_FIELDS))
    if name == "unit_class":
        return Unit.unit_class.is_(None)
    return _blank(getattr(Unit, name))


def suspect_condition(now: dt.datetime | None = None) -> ColumnElement[bool]:
    """疑似僵尸单位: active, and either neither phone nor address, or not updated for over two years."""
    cutoff = (now or utcnow()) - dt.timedelta(days=SUSPECT_STALE_DAYS)
    return and_(
        Unit.status == UnitStatus.ACTIVE,
        or_(and_(_blank(Unit.contact_phone), _blank(Unit.address)), Unit.updated_at < cutoff),
    )


def _org_scope(stmt: Select, user: User) -> Select:
    ids = visible_org_ids(user)
    if ids is None:
        return stmt
    return stmt.where(Unit.org_id.in_(sorted(ids)))


TRIGRAM = 3  # the trigram indexes serve words of at least this many characters; shorter ones scan with LIKE


def _search_condition(q: str) -> ColumnElement[bool]:
    """Every word must appear in the name, the address or the USCC (case-insensitive, partial).

    Words of three or more characters are looked up in the trigram indexes of migration 9ed31ec19b70: ``ILIKE``
    over pg_trgm GIN indexes on PostgreSQL, one ``MATCH`` on the FTS5 trigram table ``unit_fts`` on SQLite (the
    word is a quoted phrase there, so ``%``, ``_``, ``*`` and FTS operators are plain text). Shorter words cannot
    use a trigram index and keep the case-insensitive ``LIKE`` with ``%``/``_`` escaped.
    """
    dialect = db.session.get_bind().dialect.name
    terms: list[ColumnElement[bool]] = []
    fts: list[str] = []
    for word in q.split():
        code = clean_uscc(word)
        code = code if code and _CODE_RE.match(code) else ""
        # FTS5 strings cannot hold a NUL: such a word takes the LIKE path
        indexed = len(word) >= TRIGRAM and (not code or len(code) >= TRIGRAM) and "\x00" not in word
        if indexed and dialect == "sqlite":
            phrases = [f"name : {_fts_phrase(word)}", f"address : {_fts_phrase(word)}"]
            if code:
                phrases.append(f"uscc : {_fts_phrase(code)}")
            fts.append("(" + " OR ".join(phrases) + ")")
            continue
        if indexed and dialect == "postgresql":
            options = [Unit.name.ilike(_contains(word), escape="/"), Unit.address.ilike(_contains(word), escape="/")]
            if code:
                options.append(Unit.uscc.ilike(_contains(code), escape="/"))
        else:
            options = [Unit.name.icontains(word, autoescape=True), Unit.address.icontains(word, autoescape=True)]
            if code:
                options.append(Unit.uscc.icontains(code, autoescape=True))
        terms.append(or_(*options))
    if fts:
        match = literal_column("unit_fts").op("MATCH")(" AND ".join(fts))
        terms.append(Unit.id.in_(select(literal_column("rowid")).select_from(table("unit_fts")).where(match)))
    return and_(*terms)


def _contains(word: str) -> str:
    """A LIKE pattern (escape character ``/``) that finds ``word`` anywhere, its own ``%`` and ``_`` literal."""
    return "%" + word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _fts_phrase(word: str) -> str:
    """``word`` as an FTS5 string: one phrase, matched as a substring by the trigram tokenizer."""
    return '"' + word.replace('"', '""') + '"'


def filtered(user: User, f: UnitFilters) -> Select:
    stmt = _org_scope(select(Unit), user)
    if f.org is not None:
        stmt = stmt.where(Unit.org_id == f.org)
    if f.status != STATUS_FILTER_ALL:
        stmt = stmt.where(Unit.status == UnitStatus(f.status))
    if f.q:
        stmt = stmt.where(_search_condition(f.q))
    if f.object_type:
        stmt = stmt.where(Unit.object_type == ObjectType(f.object_type))
    if f.unit_class:
        stmt = stmt.where(Unit.unit_class == UnitClass(f.unit_class))
    if f.crowded:
        stmt = stmt.where(Unit.crowded.is_(f.crowded == "yes"))
    if f.risk:
        stmt = stmt.where(Unit.risk_level == RiskLevel(f.risk))
    if f.credit:
        stmt = stmt.where(Unit.credit_level == CreditLevel(f.credit))
    if f.region:
        stmt = stmt.where(Unit.region == f.region)
    if f.missing:
        stmt = stmt.where(missing_condition(f.missing))
    if f.suspect:
        stmt = stmt.where(suspect_condition())
    return stmt


# ------------------------------------------------------------------------------------------------ list

# The desk table's sortable columns, as expressions that are never NULL (see webapp.registry.sorting).
_RISK_RANK = {RiskLevel.RED: 1, RiskLevel.YELLOW: 2, RiskLevel.BLUE: 3, RiskLevel.GREEN: 4}
SORT_COLUMNS: dict[str, Any] = {
    "name": Unit.name,
    "uscc": func.coalesce(Unit.uscc, ""),
    "unit_class": case(  # the draw's strata in order: key crowded places first, missing class last
        (and_(Unit.unit_class == UnitClass.KEY, Unit.crowded.is_(True)), 1),
        (Unit.unit_class == UnitClass.KEY, 2),
        (Unit.unit_class == UnitClass.GENERAL, 3),
        (Unit.unit_class == UnitClass.NINE_SMALL, 4),
        (Unit.unit_class == UnitClass.OTHER, 5),
        else_=99,
    ),
    "risk": case(*((Unit.risk_level == k, r) for k, r in _RISK_RANK.items()), else_=99),
    "region": func.coalesce(Unit.region, ""),
    "org": func.coalesce(select(Organisation.name).where(Organisation.id == Unit.org_id).scalar_subquery(), ""),
    "updated": Unit.updated_at,
}


@dataclass
class UnitPage:
    units: list[Unit]
    next_after: int | None  # pass as ?after= for the next page; None on the last page
    count: int  # number of matching units, capped at COUNT_CAP + 1
    count_capped: bool


def list_units(user: User, f: UnitFilters, after: int | None = None, page_size: int = 50) -> UnitPage:
    """One page of matching units, newest first or in ``f.sort``'s order, keyset-paged after the row ``after``."""
    stmt = filtered(user, f)
    page_stmt = ordered_page(stmt, f.sort, SORT_COLUMNS, Unit.id, after, page_size + 1).options(
        selectinload(Unit.org)  # the desk table's 所属机构 column
    )
    rows = list(db.session.execute(page_stmt).scalars())
    more = len(rows) > page_size
    rows = rows[:page_size]
    # Count at most COUNT_CAP + 1 rows: exact for normal lists, "超过10000个" for huge ones.
    capped = stmt.with_only_columns(Unit.id).order_by(None).limit(COUNT_CAP + 1).subquery()
    count = db.session.execute(select(func.count()).select_from(capped)).scalar_one()
    return UnitPage(
        units=rows,
        next_after=rows[-1].id if more and rows else None,
        count=count,
        count_capped=count > COUNT_CAP,
    )


def visible_regions(user: User) -> list[str]:
    """The regions of the user's units (options of the region filter), at most 300, in order.

    The query reads every unit of the organisations (no index covers ``region``), so the answer is kept
    for ``REGIONS_TTL`` seconds per set of organisations, in this process. It is forgotten at once when
    this process commits a change to a unit (ORM flush, or :func:`forget_regions` after bulk writes); other
    processes see a new region within ``REGIONS_TTL``.
    """
    ids = visible_org_ids(user)
    key = None if ids is None else tuple(sorted(ids))
    cache = _regions_cache()
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < REGIONS_TTL:
        return list(hit[1])
    stmt = _org_scope(select(Unit.region), user).where(Unit.region.is_not(None), Unit.region != "")
    regions = list(db.session.execute(stmt.group_by(Unit.region).order_by(Unit.region).limit(300)).scalars())
    cache[key] = (now, tuple(regions))
    return regions


def _regions_cache() -> dict:
    return current_app.extensions.setdefault("suijian_unit_regions", {})


def forget_regions() -> None:
    """Drop the cached region lists (after writing units with bulk statements, which bypass the ORM)."""
    if has_app_context():
        _regions_cache().clear()


@event.listens_for(Session, "after_flush")
def _note_unit_writes(session: Session, _flush_context: Any) -> None:
    if any(isinstance(o, Unit) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["units_written"] = True


@event.listens_for(Session, "after_commit")
def _forget_regions_on_commit(session: Session) -> None:
    if session.info.pop("units_written", False):
        forget_regions()


@event.listens_for(Session, "after_rollback")
def _clear_unit_write_mark(session: Session) -> None:
    session.info.pop("units_written", None)


def get_unit(user: User, public_id: str) -> Unit | None:
    """The unit if it exists and belongs to the user's organisation subtree, else None (→ 404)."""
    unit = db.session.execute(select(Unit).where(Unit.public_id == public_id)).scalar_one_or_none()
    if unit is None:
        return None
    ids = visible_org_ids(user)
    if ids is not None and unit.org_id not in ids:
        return None
    return unit


def history(user: User, unit: Unit, limit: int = 200) -> list[audit_queries.EventView]:
    """Audit events of this unit, newest first, as people read them."""
    return audit_queries.history(user, unit, limit)


# --------------------------------------------------------------------------------------------- quality


@dataclass
class QualityRow:
    org_id: int | None
    org_name: str
    total: int = 0
    active: int = 0
    missing_any: int = 0
    missing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUALITY_FIELDS, 0))
    closed: int = 0
    zombie: int = 0
    suspect: int = 0


def quality_report(user: User, now: dt.datetime | None = None) -> tuple[QualityRow, list[QualityRow]]:
    """Data-quality counts of the visible units: totals and one row per organisation.

    One grouped query (SUM(CASE …) per measure, GROUP BY organisation); nothing loops over units.
    """
    active = Unit.status == UnitStatus.ACTIVE

    def count_if(cond: ColumnElement[bool], label: str):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(label)

    columns = [
        Unit.org_id,
        func.count(Unit.id).label("total"),
        count_if(active, "active"),
        count_if(and_(active, missing_condition("any")), "missing_any"),
        *(count_if(and_(active, missing_condition(f)), f"missing_{f}") for f in QUALITY_FIELDS),
        count_if(Unit.status == UnitStatus.CLOSED, "closed"),
        count_if(Unit.status == UnitStatus.ZOMBIE, "zombie"),
        count_if(suspect_condition(now), "suspect"),
    ]
    stmt = _org_scope(select(*columns), user).group_by(Unit.org_id)
    rows = db.session.execute(stmt).all()
    names = dict(
        db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_([r.org_id for r in rows] or [0]))
        ).all()
    )
    total = QualityRow(org_id=None, org_name="")
    per_org: list[QualityRow] = []
    for r in rows:
        row = QualityRow(
            org_id=r.org_id,
            org_name=names.get(r.org_id, str(r.org_id)),
            total=r.total,
            active=r.active,
            missing_any=r.missing_any,
            missing={f: getattr(r, f"missing_{f}") for f in QUALITY_FIELDS},
            closed=r.closed,
            zombie=r.zombie,
            suspect=r.suspect,
        )
        per_org.append(row)
        for name in ("total", "active", "missing_any", "closed", "zombie", "suspect"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for f in QUALITY_FIELDS:
            total.missing[f] += row.missing[f]
    per_org.sort(key=lambda row: row.org_name)
    return total, per_org


# --------------------------------------------------------------------------------------------- stratum

# The draw's strata of units (plans, quotas, coverage): key units split by 人员密集场所, then the classes.
STRATA = ("key_crowded", "key", "general", "nine_small", "other")


def stratum_of(unit_class: UnitClass | None, crowded: bool) -> str | None:
    """The stratum of a unit of class ``unit_class``; None when the class is not recorded."""
    if unit_class is None:
        return None
    if unit_class == UnitClass.KEY:
        return "key_crowded" if crowded else "key"
    return unit_class.value


def stratum_expr(unclassified: str | None = None) -> ColumnElement:
    """:func:`stratum_of` as an SQL expression over ``Unit`` (``unclassified`` where the class is missing)."""
    return case(
        (and_(Unit.unit_class == UnitClass.KEY, Unit.crowded.is_(True)), literal("key_crowded")),
        (Unit.unit_class == UnitClass.KEY, literal("key")),
        (Unit.unit_class == UnitClass.GENERAL, literal("general")),
        (Unit.unit_class == UnitClass.NINE_SMALL, literal("nine_small")),
        (Unit.unit_class == UnitClass.OTHER, literal("other")),
        else_=literal(unclassified) if unclassified is not None else None,
    )
