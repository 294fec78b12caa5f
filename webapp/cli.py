"""Flask commands: every package's ``cli.py`` exports ``COMMANDS``; they are registered here, in one loop.

The root's own commands, ``flask audit-verify`` and ``flask audit-anchor`` (the audit log is infrastructure,
``webapp/audit.py``), live here.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("audit-verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute the audit hash chain and check it against every anchor (storage and database); exit 1 if any
    event was edited, inserted or deleted, history was rewritten after an anchor, or an anchor was tampered with."""
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
    anchors = db.session.execute(select(func.count(audit.AuditAnchor.id))).scalar()
    click.echo(f"OK: audit chain intact ({n} events, head {head or audit.GENESIS}; matches {anchors} anchors)")


@click.command("audit-anchor")
@with_appcontext
def audit_anchor() -> None:
    """Write the audit chain head (last id, hash, count, time) to the storage backend and the public site's
    审计日志校验值 list. Idempotent within a day while no event is added; the job queue runs it daily."""
    from webapp import audit
    from webapp.extensions import db

    row = audit.anchor()
    db.session.commit()
    click.echo(
        f"anchored {row.day}: {row.event_count} events, last event {row.last_event_id}, "
        f"head {row.head_hash} -> {row.storage_key}"
    )


COMMANDS: list[click.Command] = [audit_verify, audit_anchor]


def register_cli(app: Flask) -> None:
    from webapp import worker
    from webapp.admin import cli as admin_cli
    from webapp.auth import cli as auth_cli
    from webapp.demo import cli as demo_cli
    from webapp.draw import cli as draw_cli
    from webapp.publication import cli as publication_cli
    from webapp.rectification import cli as rectification_cli
    from webapp.registry import cli as registry_cli

    for module in (auth_cli, admin_cli, registry_cli, draw_cli, rectification_cli, publication_cli, demo_cli, worker):
        for command in module.COMMANDS:
            app.cli.add_command(command)
    for command in COMMANDS:
        app.cli.add_command(command)
