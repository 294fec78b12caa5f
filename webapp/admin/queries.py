"""Reads of the admin pages: the organisation tree, users, the calendar month grid. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp import calendar as cal
from webapp.auth.access import org_subtree_ids
from webapp.auth.models import Organisation, Role, User
from webapp.calendar_notice import ParsedDay, ParsedYear
from webapp.extensions import db

# ------------------------------------------------------------------------------------- organisations


def org_tree(include_inactive: bool = True) -> list[tuple[Organisation, int]]:
    """Every organisation with its depth, parents before children (an indented list)."""
    q = select(Organisation).order_by(Organisation.code)
    if not include_inactive:
        q = q.where(Organisation.active.is_(True))
    orgs = list(db.session.execute(q).scalars())
    by_parent: dict[int | None, list[Organisation]] = {}
    ids = {o.id for o in orgs}
    for o in orgs:
        by_parent.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    out: list[tuple[Organisation, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for o in by_parent.get(parent_id, []):
            out.append((o, depth))
            walk(o.id, depth + 1)

    walk(None, 0)
    return out


def subtree_ids(org_id: int) -> set[int]:
    """The organisation and all its descendants."""
    return org_subtree_ids([org_id])


def user_counts() -> dict[int, int]:
    """Active users per organisation id."""
    rows = db.session.execute(
        select(User.org_id, func.count(User.id)).where(User.active.is_(True)).group_by(User.org_id)
    )
    return {org_id: n for org_id, n in rows}  # noqa: C416 - rows are Row objects; mypy wants them unpacked


def org_blockers(org: Organisation) -> dict[str, int]:
    """What keeps ``org`` from being deactivated: its active child organisations and users."""
    children = db.session.execute(
        select(func.count(Organisation.id)).where(Organisation.parent_id == org.id, Organisation.active.is_(True))
    ).scalar_one()
    users = db.session.execute(
        select(func.count(User.id)).where(User.org_id == org.id, User.active.is_(True))
    ).scalar_one()
    return {"children": children, "users": users}


def get_org(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)


# --------------------------------------------------------------------------------------------- users


def list_users(org_id: int | None = None, role: Role | None = None, active: bool | None = None) -> list[User]:
    q = select(User).options(selectinload(User.org)).order_by(User.active.desc(), User.username)
    if org_id:
        q = q.where(User.org_id == org_id)
    if role is not None:
        q = q.where(User.role == role)
    if active is not None:
        q = q.where(User.active.is_(active))
    return list(db.session.execute(q).scalars())


# ------------------------------------------------------------------------------------------ calendar


@dataclass(frozen=True)
class DayCell:
    day: dt.date
    workday: bool
    override: cal.CalendarOverride | None
    draw_day: bool  # one of the month's last two working days (抽取日)
    is_today: bool


def month_grid(year: int, month: int, today: dt.date | None = None) -> list[list[DayCell | None]]:
    """Weeks (Monday first) of the month; ``None`` pads days outside the month."""
    first, last = cal.month_bounds(year, month)
    overrides = cal.db_overrides(first, last)
    rows = {
        o.day: o
        for o in db.session.execute(
            select(cal.CalendarOverride).where(cal.CalendarOverride.day.between(first, last))
        ).scalars()
    }
    draw = set(cal.last_working_days(year, month, 2, overrides))
    cells: list[DayCell | None] = [None] * first.weekday()
    for d in cal.iter_days(first, last):
        cells.append(DayCell(d, cal.is_workday(d, overrides), rows.get(d), d in draw, d == today))
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def official_is_workday(day: dt.date) -> bool:
    """What the official calendar (chinese-calendar, weekdays for unknown years) says, ignoring overrides."""
    return cal.is_workday(day, None)


def year_overrides(year: int) -> list[cal.CalendarOverride]:
    return list(
        db.session.execute(
            select(cal.CalendarOverride)
            .where(cal.CalendarOverride.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
            .order_by(cal.CalendarOverride.day)
        ).scalars()
    )


@dataclass(frozen=True)
class ReviewRow:
    parsed: ParsedDay
    now_workday: bool  # what the calendar says today for the day (library or override)

    @property
    def changes(self) -> bool:
        return self.now_workday != self.parsed.is_workday


def review_rows(parsed: ParsedYear) -> list[tuple[str, list[ReviewRow]]]:
    """The parsed days next to what the calendar says now, for the review before saving: grouped by their
    source line (in the notice's order), each group's days by date."""
    if not parsed.days:
        return []
    overrides = cal.db_overrides(parsed.days[0].day, parsed.days[-1].day)
    groups: dict[str, list[ReviewRow]] = {}
    for d in parsed.days:
        groups.setdefault(d.line, []).append(ReviewRow(d, cal.is_workday(d.day, overrides)))
    return list(groups.items())  # days are in date order, so groups come in the order of their first day


def review_digest(parsed: ParsedYear) -> str:
    """A fingerprint of what the review showed; saving refuses when the text now reads differently."""
    text = f"{parsed.year}|" + ";".join(f"{d.day.isoformat()}:{int(d.is_workday)}:{d.note}" for d in parsed.days)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
