"""Migrations: one head, upgrade → downgrade → upgrade works, and the models match the migrated schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from webapp.db import include_in_autogenerate
from webapp.extensions import db as _db


def _script(app):
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def test_single_head(app, db):
    assert len(_script(app).get_heads()) == 1


def test_models_match_migrated_schema(app, db):
    with _db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True, "include_name": include_in_autogenerate}
        )
        diff = compare_metadata(ctx, _db.metadata)
    assert diff == [], "a model changed without a migration: run `flask db migrate`"


def test_downgrade_to_base_and_upgrade_again(app, db):
    _db.session.remove()
    downgrade(revision="base")
    assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    tables = set(inspect(_db.engine).get_table_names())
    assert {"unit", "inspector", "audit_event", "item_version", "user", "organisation"} <= tables


def test_each_revision_downgrades_one_step(app, db):
    """Walk down one revision at a time to base and back up: every downgrade() is real."""
    _db.session.remove()
    revisions = list(_script(app).walk_revisions())  # head first
    for rev in revisions:
        downgrade(revision=rev.down_revision or "base")
    upgrade()
    assert len(revisions) >= 1
