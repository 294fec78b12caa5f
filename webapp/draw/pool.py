"""The inspector pool: who may be drawn for a period, and why not (DRAW_SPEC section 5).

A draw rule over the registry's facts: only people holding a valid 行政执法资格 certificate, not frozen, not
away the whole period, of an active organisation of a department the item needs are in the pool; an expired
certificate takes a person out of it without any status change. Reason codes are labelled in
``draw.labels.INSPECTOR_EXCLUSION``. Reads only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from webapp import calendar
from webapp.auth.models import Organisation
from webapp.draw.labels import INSPECTOR_EXCLUSION
from webapp.extensions import db
from webapp.registry.inspectors.queries import covered_days
from webapp.registry.models import Inspector, InspectorConflict, InspectorStatus, InspectorUnavailability, Unit


def _reasons(
    cert_no: str | None,
    valid_until: dt.date | None,
    status: InspectorStatus,
    unavailable: set[dt.date],
    start: dt.date,
    end: dt.date,
) -> list[str]:
    reasons: list[str] = []
    if not cert_no or valid_until is None:
        reasons.append("cert_missing")
    elif valid_until < start:
        reasons.append("cert_expired")
    elif valid_until < end:
        reasons.append("cert_expires_in_period")
    if status == InspectorStatus.FROZEN:
        reasons.append("frozen")
    if len(unavailable) == (end - start).days + 1:
        reasons.append("unavailable_all_period")
    return reasons


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise ValueError(f"start {start} is after end {end}")


def unavailable_dates(inspector: Inspector, start: dt.date, end: dt.date) -> list[str]:
    """ISO dates of [start, end] on which the inspector is unavailable (cancelled periods ignored)."""
    _check_period(start, end)
    periods = [(p.start_date, p.end_date) for p in inspector.unavailability if not p.cancelled]
    return sorted(d.isoformat() for d in covered_days(periods, start, end))


def pool_exclusion_reasons(inspector: Inspector, start: dt.date, end: dt.date) -> list[str]:
    """Why ``inspector`` cannot be in a draw pool for [start, end]; empty when they can.

    Codes: ``cert_missing``, ``cert_expired`` (valid until before ``start``), ``cert_expires_in_period``
    (valid until before ``end``), ``frozen``, ``unavailable_all_period``. Partial unavailability is not an
    exclusion: see :func:`unavailable_dates`. Nothing here changes the inspector: an expired certificate
    takes them out of the pool by itself.
    """
    _check_period(start, end)
    periods = [(p.start_date, p.end_date) for p in inspector.unavailability if not p.cancelled]
    covered = covered_days(periods, start, end)
    return _reasons(inspector.cert_no, inspector.cert_valid_until, inspector.status, covered, start, end)


def inspector_pool(org_ids: set[int], depts: list[str], start: dt.date, end: dt.date) -> tuple[list[dict], list[dict]]:
    """The inspectors of organisations ``org_ids`` who may be drawn for [start, end], and those who may not.

    In the pool: ``{"id", "name", "org_id", "dept", "post", "can_lead", "weight", "conflicts",
    "unavailable"}`` with ``conflicts`` the public ids of units with an active declared conflict and
    ``unavailable`` the ISO dates of [start, end] the inspector cannot go. Excluded:
    ``{"inspector_id", "name", "org_id", "dept", "reasons"}``. ``depts`` limits the pool to those
    departments (empty: any); others are excluded as ``wrong_dept``. Both lists are in public-id order.
    Three queries whatever the number of inspectors.
    """
    _check_period(start, end)
    ids = sorted(set(org_ids))
    if not ids:
        return [], []
    in_orgs = Inspector.org_id.in_(ids)
    rows = db.session.execute(
        select(
            Inspector.id,
            Inspector.public_id,
            Inspector.name,
            Inspector.org_id,
            Inspector.post,
            Inspector.can_lead,
            Inspector.draw_weight,
            Inspector.cert_no,
            Inspector.cert_valid_until,
            Inspector.status,
            Organisation.dept,
            Organisation.active,
        )
        .join(Organisation, Organisation.id == Inspector.org_id)
        .where(in_orgs)
        .order_by(Inspector.public_id)
    ).all()
    periods: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for iid, p_start, p_end in db.session.execute(
        select(
            InspectorUnavailability.inspector_id, InspectorUnavailability.start_date, InspectorUnavailability.end_date
        )
        .join(Inspector, Inspector.id == InspectorUnavailability.inspector_id)
        .where(
            in_orgs,
            InspectorUnavailability.cancelled.is_(False),
            InspectorUnavailability.start_date <= end,
            InspectorUnavailability.end_date >= start,
        )
    ):
        periods.setdefault(iid, []).append((p_start, p_end))
    conflicts: dict[int, set[str]] = {}
    for iid, unit_pid in db.session.execute(
        select(InspectorConflict.inspector_id, Unit.public_id)
        .join(Unit, Unit.id == InspectorConflict.unit_id)
        .join(Inspector, Inspector.id == InspectorConflict.inspector_id)
        .where(in_orgs, InspectorConflict.active.is_(True))
    ):
        conflicts.setdefault(iid, set()).add(unit_pid)

    wanted = set(depts or ())
    pool: list[dict] = []
    excluded: list[dict] = []
    for r in rows:
        covered = covered_days(periods.get(r.id, ()), start, end)
        reasons = _reasons(r.cert_no, r.cert_valid_until, r.status, covered, start, end)
        if wanted and r.dept not in wanted:
            reasons.append("wrong_dept")
        if not r.active:
            reasons.append("org_inactive")
        if reasons:
            excluded.append(
                {"inspector_id": r.public_id, "name": r.name, "org_id": r.org_id, "dept": r.dept, "reasons": reasons}
            )
            continue
        pool.append(
            {
                "id": r.public_id,
                "name": r.name,
                "org_id": r.org_id,
                "dept": r.dept,
                "post": r.post,
                "can_lead": bool(r.can_lead),
                "weight": int(r.draw_weight),
                "conflicts": sorted(conflicts.get(r.id, ())),
                "unavailable": sorted(d.isoformat() for d in covered),
            }
        )
    return pool, excluded


@dataclass
class PoolState:
    start: dt.date
    end: dt.date
    reasons: list[str]
    unavailable: list[str]  # ISO dates

    @property
    def in_pool(self) -> bool:
        return not self.reasons


def month_pool_state(inspector: Inspector, today: dt.date | None = None) -> PoolState:
    """Whether the inspector can be drawn this month (calendar month of ``today``), and why not."""
    first, last = calendar.this_month(today)
    return PoolState(
        first,
        last,
        pool_exclusion_reasons(inspector, first, last),
        unavailable_dates(inspector, first, last),
    )


def template_globals() -> dict[str, Any]:
    """For the registry's inspector page, which sits below the draw: this month's pool state and its labels.

    Registered app-wide by ``webapp/__init__.py`` (the registry cannot import the draw). Also
    ``draw_pool_summary`` (``draw.queries.pool_summary``: a draw's quotas against what it drew, for the pool page).
    """
    from webapp.draw.queries import pool_summary

    return {
        "inspector_month_pool": month_pool_state,
        "INSPECTOR_EXCLUSION": INSPECTOR_EXCLUSION,
        "draw_pool_summary": pool_summary,
    }
