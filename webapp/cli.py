"""Flask commands: audit-verify, create-user, demo …"""

from __future__ import annotations

import sys

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    from webapp.demo_cli import register_demo_cli
    from webapp.draw.cli import register_draw_cli
    from webapp.registry.cli import register_import_cli

    register_demo_cli(app)
    register_import_cli(app)
    register_draw_cli(app)

    @app.cli.command("audit-verify")
    def audit_verify() -> None:
        """Recompute the audit hash chain; exit 1 if any event was edited, inserted or deleted."""
        from webapp import audit

        problems = audit.verify()
        if problems:
            for p in problems:
                click.echo(f"BROKEN: {p.message}", err=True)
            sys.exit(1)
        from sqlalchemy import func, select

        from webapp.extensions import db

        n = db.session.execute(select(func.count(audit.AuditEvent.id))).scalar()
        head = db.session.execute(select(audit.AuditEvent.hash).order_by(audit.AuditEvent.id.desc()).limit(1)).scalar()
        click.echo(f"OK: audit chain intact ({n} events, head {head or audit.GENESIS})")
