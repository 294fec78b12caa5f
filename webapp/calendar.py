"""Chinese working days: official holidays and 调休 from the chinese-calendar package, plus admin overrides.

chinese-calendar knows each year's State Council schedule up to its release; for later years every
weekday counts as a working day until an administrator records the year's holidays as overrides
(``CalendarOverride`` rows, editable on the admin calendar page). Overrides always win.

A year is *known* (:func:`year_known`) when the library carries its schedule, or an administrator entered it
(the State Council's notice, or ranges by hand) or confirmed it as "no holidays known yet" with a reason
(``CalendarYear`` rows). A draw's period can be frozen only when every year it touches is known
(:func:`period_gate`, DRAW_SPEC §4): planning on an unknown year would put tasks on holidays.

The pure functions take an ``overrides`` mapping so that they can be used without a database;
:func:`db_overrides` loads the mapping from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

import chinese_calendar
from flask_babel import gettext as _
from sqlalchemy import Boolean, Date, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import UTCDateTime, created_at, intpk, utcnow
from webapp.extensions import Model, db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    """Today's date where the regime runs (Asia/Shanghai), whatever the server's time zone."""
    return dt.datetime.now(SHANGHAI).date()


def day_start_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` begins in Asia/Shanghai (stored times are UTC)."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


def local_date(when: dt.datetime) -> dt.date:
    """The Asia/Shanghai date of a stored (UTC; naive means UTC) time."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(SHANGHAI).date()


Overrides = Mapping[dt.date, bool]


class CalendarOverride(Model):
    __tablename__ = "calendar_override"

    id: Mapped[intpk]
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[created_at]


# CalendarYear.status: how an administrator made a year known (labels: webapp/admin/labels.py).
YEAR_ENTERED = "entered"  # the year's holidays and 调休 working days were entered (as overrides)
YEAR_CONFIRMED = "confirmed"  # confirmed as "no holidays known yet", with a reason
YEAR_STATUSES = (YEAR_ENTERED, YEAR_CONFIRMED)

# From this month on, the supervisors' 工作台 warns when the next year is not known yet (the State Council
# publishes the schedule in November or December).
WARN_FROM_MONTH = 11


class CalendarYear(Model):
    """An administrator's record that a year the library does not know is known: entered or confirmed.

    One row per year, changed in place (entering the notice after a confirmation turns ``confirmed`` into
    ``entered``); every change is an audit event (``calendar.year_entered`` / ``calendar.year_confirmed``).
    """

    __tablename__ = "calendar_year"

    id: Mapped[intpk]
    year: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))  # why "no holidays known yet" (confirmed)
    source: Mapped[str | None] = mapped_column(String(200))  # e.g. the notice's title (entered)
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def library_knows(year: int) -> bool:
    """Whether chinese-calendar carries the official holiday schedule for ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year_record(year: int) -> CalendarYear | None:
    """The administrator's record for ``year`` (entered or confirmed), if any."""
    return db.session.execute(select(CalendarYear).where(CalendarYear.year == year)).scalar_one_or_none()


def year_known(year: int) -> bool:
    """Whether ``year``'s working days are known: the library knows it, or an administrator entered or
    confirmed it. Library years need no database."""
    return library_knows(year) or year_record(year) is not None


def unknown_years(start: dt.date, end: dt.date) -> list[int]:
    """The calendar years from ``start`` to ``end`` (inclusive) that are not known, ascending."""
    years = [y for y in range(start.year, end.year + 1) if not library_knows(y)]
    if not years:
        return []
    recorded = set(db.session.execute(select(CalendarYear.year).where(CalendarYear.year.in_(years))).scalars())
    return [y for y in years if y not in recorded]


def unknown_years_message(years: list[int]) -> str:
    """The one Chinese sentence saying that ``years`` are not known and what an administrator does about it."""
    return _(
        "%(years)s的节假日安排尚未录入或确认：请管理员在“工作日历”中录入国务院办公厅的放假通知，或确认暂无安排",
        years="、".join(_("%(y)d年", y=y) for y in years),
    )


def period_gate(start: dt.date, end: dt.date) -> str | None:
    """Why a period from ``start`` to ``end`` cannot be frozen or committed (a Chinese sentence), or None.

    A period can be frozen only when every working day of it comes from a known year (DRAW_SPEC §4).
    """
    years = unknown_years(start, end)
    return unknown_years_message(years) if years else None


def upcoming_unknown_year(today: dt.date) -> int | None:
    """The year the supervisors' 工作台 warns about: the current year when it is not known, and from November
    on the next year when it is not known; otherwise None."""
    if not year_known(today.year):
        return today.year
    if today.month >= WARN_FROM_MONTH and not year_known(today.year + 1):
        return today.year + 1
    return None


def is_workday(day: dt.date, overrides: Overrides | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def iter_days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def working_days(start: dt.date, end: dt.date, overrides: Overrides | None = None) -> list[dt.date]:
    """Working days from ``start`` to ``end`` inclusive."""
    return [d for d in iter_days(start, end) if is_workday(d, overrides)]


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def this_month(day: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar month of ``day`` (default: :func:`today`)."""
    day = day or today()
    return month_bounds(day.year, day.month)


def working_days_of_month(year: int, month: int, overrides: Overrides | None = None) -> list[dt.date]:
    return working_days(*month_bounds(year, month), overrides)


def last_working_days(year: int, month: int, n: int = 2, overrides: Overrides | None = None) -> list[dt.date]:
    """The last ``n`` working days of the month (the window for the next month's draw)."""
    return working_days_of_month(year, month, overrides)[-n:]


def add_working_days(day: dt.date, n: int, overrides: Overrides | None = None) -> dt.date:
    """The date ``n`` working days after ``day`` (``day`` itself not counted), e.g. 20-day deadlines."""
    if n < 0:
        raise ValueError("n must be >= 0")
    current = day
    remaining = n
    while remaining:
        current += dt.timedelta(days=1)
        if is_workday(current, overrides):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date, overrides: Overrides | None = None) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -working_days_between(end, start, overrides)
    return len(working_days(start + dt.timedelta(days=1), end, overrides))


def db_overrides(start: dt.date | None = None, end: dt.date | None = None) -> dict[dt.date, bool]:
    q = select(CalendarOverride.day, CalendarOverride.is_workday)
    if start:
        q = q.where(CalendarOverride.day >= start)
    if end:
        q = q.where(CalendarOverride.day <= end)
    return dict(db.session.execute(q).all())
