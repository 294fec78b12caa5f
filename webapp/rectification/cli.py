"""``flask rectification reinspections``: the daily creation of the 复查 tasks that came due."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.rectification import services

group = AppGroup("rectification", help="Rectification orders (责令改正) and their 复查.")


@group.command("reinspections")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="Today (YYYY-MM-DD); default: now.")
def reinspections(day: dt.datetime | None) -> None:
    """Create the 复查 task for every order whose deadline has passed (run daily, e.g. from cron)."""
    tasks = services.create_due_reinspections(None, day.date() if day else None)
    db.session.commit()
    click.echo(f"{len(tasks)} re-inspection task(s) created")


COMMANDS: list[click.Command] = [group]
