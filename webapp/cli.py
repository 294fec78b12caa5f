"""Flask commands: every package's ``cli.py`` exports ``COMMANDS``; they are registered here, in one loop.

The root's own command, ``flask audit-verify`` (the audit log is infrastructure, ``webapp/audit.py``), lives here.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("audit-verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if any event was edited, inserted or deleted."""
    from sqlalchemy import func, select

    from webapp import audit
    from webapp.extensions import db

    problems = audit.verify()
    if problems:
        for p in problems:
            click.echo(f"BROKEN: {p.message}", err=True)
        sys.exit(1)
    n = db.session.execute(select(func.count(audit.AuditEvent.id))).scalar()
    head = db.session.execute(select(audit.AuditEvent.hash).order_by(audit.AuditEvent.id.desc()).limit(1)).scalar()
    click.echo(f"OK: audit chain intact ({n} events, head {head or audit.GENESIS})")


COMMANDS: list[click.Command] = [audit_verify]


def register_cli(app: Flask) -> None:
    from webapp.auth import cli as auth_cli
    from webapp.demo import cli as demo_cli
    from webapp.draw import cli as draw_cli
    from webapp.publication import cli as publication_cli
    from webapp.rectification import cli as rectification_cli
    from webapp.registry import cli as registry_cli

    for module in (auth_cli, registry_cli, draw_cli, rectification_cli, publication_cli, demo_cli):
        for command in module.COMMANDS:
            app.cli.add_command(command)
    for command in COMMANDS:
        app.cli.add_command(command)
