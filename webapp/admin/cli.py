"""Commands of admin: ``flask calendar confirm`` and ``flask calendar set`` (the calendar page's year actions, for
scripts). The same rules and audit events as the admin page apply; the actor is the system (no user)."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from webapp import calendar as cal
from webapp import calendar_notice
from webapp.admin import services
from webapp.admin.labels import YEAR_STATUS
from webapp.extensions import db

# Where each service error belongs on the command line.
_OPTION_OF = {"year": "YEAR", "reason": "--reason", "holidays": "--holiday", "workdays": "--workday"}


def _fail(errors: dict[str, str]) -> click.ClickException:
    db.session.rollback()
    return click.ClickException("\n".join(f"{_OPTION_OF.get(k, k)}: {msg}" for k, msg in errors.items()))


@click.group("calendar")
def calendar_cli() -> None:
    """The working-day calendar: make a year the holiday library does not know known before any draw."""


@calendar_cli.command("confirm")
@click.argument("year")
@click.option("--reason", required=True, help="why no holidays are known yet (audited)")
@with_appcontext
def confirm(year: str, reason: str) -> None:
    """Confirm YEAR as "no holidays known yet" (weekdays count as working days), audited with the reason."""
    try:
        record = services.confirm_year(None, year, reason)
    except services.Invalid as exc:
        raise _fail(exc.errors) from None
    db.session.commit()
    click.echo(f"confirmed {record.year}: no holidays known yet ({reason.strip()})")


@calendar_cli.command("set")
@click.argument("year")
@click.option("--holiday", "holidays", multiple=True, metavar="FROM:TO", help="a holiday range, or one date")
@click.option("--workday", "workdays", multiple=True, metavar="DATE", help="a 调休 working day (weekend at work)")
@click.option("--source", default=None, help="where the dates come from, e.g. the notice's title")
@with_appcontext
def set_year(year: str, holidays: tuple[str, ...], workdays: tuple[str, ...], source: str | None) -> None:
    """Enter YEAR's holidays and 调休 working days (each day an override), which makes the year known.

    Example: flask calendar set 2027 --holiday 2027-01-01:2027-01-03 --holiday 2027-02-06:2027-02-12
    --workday 2027-02-14
    """
    parsed = calendar_notice.parse_ranges(year, list(holidays), list(workdays), source or "flask calendar set")
    if parsed.errors:
        raise _fail(parsed.errors)
    try:
        changed = services.enter_year(None, parsed)
    except services.Invalid as exc:
        raise _fail(exc.errors) from None
    db.session.commit()
    click.echo(
        f"entered {parsed.year}: {len(parsed.holidays)} holidays, {len(parsed.workdays)} working days "
        f"({changed} days changed)"
    )


@calendar_cli.command("status")
@click.argument("year")
@with_appcontext
def status(year: str) -> None:
    """Say whether YEAR is known and how (library, entered, confirmed), as the draw's gate sees it."""
    y = calendar_notice.clean_year(year)
    if y is None:
        lo, hi = calendar_notice.MIN_YEAR, calendar_notice.MAX_YEAR
        raise click.ClickException(f"YEAR: not a year between {lo} and {hi}")
    record = cal.year_record(y)
    if cal.library_knows(y):
        click.echo(f"{y}: known (holiday library)")
    elif record is not None:
        detail = record.reason or record.source or ""
        click.echo(f"{y}: known ({record.status}: {YEAR_STATUS[record.status]}; {detail})")
    else:
        click.echo(f"{y}: NOT known — {cal.period_gate(dt.date(y, 1, 1), dt.date(y, 12, 31))}")
        sys.exit(1)


COMMANDS: list[click.Command] = [calendar_cli]
