"""``flask publication run``: the daily stamping of what came due for publication (一公开)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from webapp import calendar
from webapp.extensions import db
from webapp.publication import services

group = AppGroup("publication", help="一公开: publication deadlines.")


@group.command("run")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="Today (YYYY-MM-DD); default: now.")
def run(day: dt.datetime | None) -> None:
    """Stamp as published everything whose publication deadline has come (run daily, e.g. from cron)."""
    today = day.date() if day else calendar.today()
    results = penalties = 0
    while True:
        r, p = services.run_batch(today)
        db.session.commit()
        results, penalties = results + r, penalties + p
        if not r and not p:
            break
    click.echo(f"{results} result(s) and {penalties} penalty decision(s) published at their deadline")


COMMANDS: list[click.Command] = [group]
