"""Units (检查对象名录库): queries and state changes for the supervisor pages.

Plain functions over ``db.session``; nothing here reads the request. Validation of typed input goes
through :func:`webapp.registry.units.clean_unit` (the one rule set shared with bulk import); this module
adds what needs the database: visibility by organisation, USCC uniqueness, the audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from webapp import audit
from webapp.auth.models import Organisation
from webapp.auth.permissions import visible_org_ids
from webapp.db import utcnow
from webapp.extensions import db
from webapp.registry.models import CreditLevel, RiskLevel, Unit, UnitClass, UnitStatus
from webapp.registry.units.columns import UNIT_FIELDS, clean_unit
from webapp.registry.validation import clean_uscc

COUNT_CAP = 10_000  # beyond this the list says "超过10000个" instead of counting every row
QUALITY_FIELDS = ("address", "uscc", "safety_person", "unit_class")
SUSPECT_STALE_DAYS = 730  # "疑似僵尸单位": active, untouched for more than two years …
MAX_QUERY_LEN = 100
REGIONS_TTL = 60.0  # seconds a process keeps the region list of the filter (see visible_regions)

# Chinese labels of the unit's fields (form labels, detail page, audit log).
FIELD_LABELS: dict[str, Any] = {
    "name": _l("单位名称"),
    "uscc": _l("统一社会信用代码"),
    "address": _l("地址"),
    "region": _l("所属区域"),
    "industry": _l("行业"),
    "legal_rep": _l("法定代表人/负责人"),
    "safety_person": _l("消防安全责任人"),
    "contact_name": _l("联系人"),
    "contact_phone": _l("联系电话"),
    "unit_class": _l("单位类别"),
    "crowded": _l("人员密集场所"),
    "risk_level": _l("风险等级"),
    "credit_level": _l("信用等级"),
    "complaint_count": _l("投诉举报次数"),
    "serious_violation": _l("严重违法违规记录"),
    "org_id": _l("所属机构"),
    "status": _l("状态"),
    "status_reason": _l("状态原因"),
}

STATUS_FILTER_ALL = "all"
MISSING_CHOICES = ("any", *QUALITY_FIELDS)
_CODE_RE = re.compile(r"^[0-9A-Za-z]+$")


# --------------------------------------------------------------------------------------------- filters


@dataclass
class UnitFilters:
    """What the list shows. Parsed leniently from query arguments: unknown values fall back to 'any'."""

    q: str = ""
    unit_class: str = ""
    crowded: str = ""  # "yes" | "no" | ""
    risk: str = ""
    credit: str = ""
    status: str = UnitStatus.ACTIVE.value  # a UnitStatus value or "all"
    region: str = ""
    missing: str = ""  # "" | "any" | one of QUALITY_FIELDS
    org: int | None = None
    suspect: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> UnitFilters:
        def pick(name: str, allowed: tuple[str, ...], default: str = "") -> str:
            v = (args.get(name) or "").strip()
            return v if v in allowed else default

        org_raw = (args.get("org") or "").strip()
        return cls(
            q=" ".join((args.get("q") or "").split())[:MAX_QUERY_LEN],
            unit_class=pick("unit_class", tuple(UnitClass)),
            crowded=pick("crowded", ("yes", "no")),
            risk=pick("risk", tuple(RiskLevel)),
            credit=pick("credit", tuple(CreditLevel)),
            status=pick("status", (*UnitStatus, STATUS_FILTER_ALL), UnitStatus.ACTIVE.value),
            region=(args.get("region") or "").strip()[:100],
            missing=pick("missing", MISSING_CHOICES),
            org=int(org_raw) if org_raw.isdigit() else None,
            suspect=(args.get("suspect") or "") == "1",
        )

    def to_args(self) -> dict[str, str]:
        """The non-default values as query arguments (for the pager and for links)."""
        out: dict[str, str] = {}
        for name in ("q", "unit_class", "crowded", "risk", "credit", "region", "missing"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.status != UnitStatus.ACTIVE.value:
            out["status"] = self.status
        if self.org is not None:
            out["org"] = str(self.org)
        if self.suspect:
            out["suspect"] = "1"
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


def _org_scope(stmt: Select, user: Any) -> Select:
    ids = visible_org_ids(user)
    if ids is None:
        return stmt
    return stmt.where(Unit.org_id.in_(sorted(ids)))


def _search_condition(q: str) -> ColumnElement[bool]:
    """Every word must appear in the name, the address or the USCC (case-insensitive, partial)."""
    terms = []
    for word in q.split():
        options = [Unit.name.icontains(word, autoescape=True), Unit.address.icontains(word, autoescape=True)]
        code = clean_uscc(word)
        if code and _CODE_RE.match(code):
            options.append(Unit.uscc.icontains(code, autoescape=True))
        terms.append(or_(*options))
    return and_(*terms)


def _filtered(user: Any, f: UnitFilters) -> Select:
    stmt = _org_scope(select(Unit), user)
    if f.org is not None:
        stmt = stmt.where(Unit.org_id == f.org)
    if f.status != STATUS_FILTER_ALL:
        stmt = stmt.where(Unit.status == UnitStatus(f.status))
    if f.q:
        stmt = stmt.where(_search_condition(f.q))
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


@dataclass
class UnitPage:
    units: list[Unit]
    next_after: int | None  # pass as ?after= for the next page; None on the last page
    count: int  # number of matching units, capped at COUNT_CAP + 1
    count_capped: bool


def list_units(user: Any, f: UnitFilters, after: int | None = None, page_size: int = 50) -> UnitPage:
    """One page of matching units, newest first, keyset-paged on the id (fast at any depth)."""
    stmt = _filtered(user, f)
    page_stmt = stmt.order_by(Unit.id.desc()).limit(page_size + 1)
    if after is not None:
        page_stmt = page_stmt.where(Unit.id < after)
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


def visible_regions(user: Any) -> list[str]:
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


def visible_orgs(user: Any) -> list[Organisation]:
    """Organisations the user manages (admin: all active ones), in code order."""
    ids = visible_org_ids(user)
    stmt = select(Organisation).order_by(Organisation.code)
    stmt = stmt.where(Organisation.active.is_(True)) if ids is None else stmt.where(Organisation.id.in_(sorted(ids)))
    return list(db.session.execute(stmt).scalars())


def get_unit(user: Any, public_id: str) -> Unit | None:
    """The unit if it exists and belongs to the user's organisation subtree, else None (→ 404)."""
    unit = db.session.execute(select(Unit).where(Unit.public_id == public_id)).scalar_one_or_none()
    if unit is None:
        return None
    ids = visible_org_ids(user)
    if ids is not None and unit.org_id not in ids:
        return None
    return unit


def unit_history(unit: Unit, limit: int = 200) -> list[audit.AuditEvent]:
    """Audit events whose subject is this unit, newest first."""
    stmt = (
        select(audit.AuditEvent)
        .where(audit.AuditEvent.subject_type == Unit.__tablename__, audit.AuditEvent.subject_id == str(unit.id))
        .order_by(audit.AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


# ------------------------------------------------------------------------------------- create / update


@dataclass
class SaveResult:
    unit: Unit | None = None
    errors: dict[str, str] = field(default_factory=dict)
    duplicate: Unit | None = None  # the unit that already holds the USCC
    changes: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_org(user: Any, raw: Any) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit():
        return None
    org_id = int(text)
    ids = visible_org_ids(user)
    if ids is None:
        return org_id if db.session.get(Organisation, org_id) is not None else None
    return org_id if org_id in ids else None


def _holder_of(uscc: str | None, exclude_id: int | None) -> Unit | None:
    if not uscc:
        return None
    stmt = select(Unit).where(Unit.uscc == uscc)
    if exclude_id is not None:
        stmt = stmt.where(Unit.id != exclude_id)
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def _duplicate_message(holder: Unit) -> str:
    return _("该统一社会信用代码已属于：%(name)s", name=holder.name)


def _validate(user: Any, org_raw: Any, raw: Mapping[str, Any], exclude_id: int | None) -> SaveResult:
    values, errors = clean_unit(dict(raw))
    org_id = _parse_org(user, org_raw)
    if org_id is None:
        errors["org_id"] = _("请选择所属机构")
    result = SaveResult(errors=errors)
    if "uscc" not in errors:
        holder = _holder_of(values.get("uscc"), exclude_id)
        if holder is not None:
            errors["uscc"] = _duplicate_message(holder)
            result.duplicate = holder
    values["org_id"] = org_id
    result.changes = values
    return result


def create_unit(actor: Any, org_raw: Any, raw: Mapping[str, Any]) -> SaveResult:
    """Validate and create a unit; writes ``unit.created`` with every value set. Commits on success."""
    result = _validate(actor, org_raw, raw, exclude_id=None)
    if not result.ok:
        return result
    values = result.changes
    unit = Unit(**values)
    try:
        with db.session.begin_nested():
            db.session.add(unit)
            db.session.flush()
    except IntegrityError:  # another request took the USCC between our check and the insert
        return _lost_race(result, values.get("uscc"), None)
    blank = SimpleNamespace(**dict.fromkeys(values))
    result.changes = audit.diff(blank, list(values), values)
    audit.record(actor, "unit.created", unit, result.changes)
    db.session.commit()
    result.unit = unit
    return result


def update_unit(actor: Any, unit: Unit, org_raw: Any, raw: Mapping[str, Any], reason: str | None = None) -> SaveResult:
    """Validate and apply an edit; writes ``unit.updated`` with {field: [old, new]}. No change, no event."""
    result = _validate(actor, org_raw, raw, exclude_id=unit.id)
    reason = (reason or "").strip()
    if len(reason) > 500:
        result.errors["reason"] = _("不能超过%(n)d个字", n=500)
    if not result.ok:
        return result
    values = result.changes
    changes = audit.diff(unit, [*UNIT_FIELDS, "org_id"], values)
    result.changes = changes
    result.unit = unit
    if not changes:
        return result
    try:
        with db.session.begin_nested():
            for name in changes:
                setattr(unit, name, values[name])
            db.session.flush()
    except IntegrityError:
        db.session.refresh(unit)
        return _lost_race(result, values.get("uscc"), unit.id)
    audit.record(actor, "unit.updated", unit, changes, reason=reason or None)
    db.session.commit()
    return result


def _lost_race(result: SaveResult, uscc: str | None, exclude_id: int | None) -> SaveResult:
    holder = _holder_of(uscc, exclude_id)
    result.unit = None
    result.duplicate = holder
    result.errors["uscc"] = _duplicate_message(holder) if holder else _("该统一社会信用代码已被占用")
    return result


# ---------------------------------------------------------------------------------------------- status


def change_status(actor: Any, unit: Unit, target: str, reason: str | None) -> dict[str, str]:
    """Close a unit, mark it 僵尸单位 or reopen it. A reason is required; history is kept. Returns errors."""
    errors: dict[str, str] = {}
    try:
        new = UnitStatus(target)
    except ValueError:
        errors["status"] = _("请选择新的状态")
        new = None
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("请填写状态变更原因")
    elif len(reason) > 500:
        errors["reason"] = _("不能超过%(n)d个字", n=500)
    if new is not None and new == unit.status:
        errors["status"] = _("该单位已是此状态")
    if errors:
        return errors
    old = unit.status
    unit.status = new
    unit.status_reason = reason
    audit.record(actor, "unit.status_changed", unit, {"status": [old.value, new.value]}, reason=reason)
    db.session.commit()
    return {}


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


def quality_report(user: Any, now: dt.datetime | None = None) -> tuple[QualityRow, list[QualityRow]]:
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
