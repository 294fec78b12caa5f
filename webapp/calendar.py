"""Chinese working days: official holidays and 调休 from the chinese-calendar package, plus admin overrides.

chinese-calendar knows each year's State Council schedule up to its release; for later years every
weekday counts as a working day until an administrator records the year's holidays as overrides
(``CalendarOverride`` rows, editable on the admin calendar page). Overrides always win.

The pure functions take an ``overrides`` mapping so that they can be used without a database;
:func:`db_overrides` loads the mapping from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import Boolean, Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import created_at, intpk
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


def year_known(year: int) -> bool:
    """Whether chinese-calendar carries the official holiday schedule for ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


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
