"""trigram indexes for the unit search (name, address and USCC fragments at a million units)

PostgreSQL: the ``pg_trgm`` extension (``CREATE EXTENSION IF NOT EXISTS``; it is a trusted extension, so the
database owner may create it) and one GIN ``gin_trgm_ops`` index per searched column; ``ILIKE '%…%'`` uses them.

SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34+) over the same three columns, with
``content='unit'`` (external content: it stores only the index, the text stays in ``unit``) and three triggers
that keep it in step with every insert, update of a searched column and delete — ORM writes, bulk statements
and imports alike. A later revision that makes batch mode *recreate* ``unit`` on SQLite drops these triggers with
the old table: it must create them again (the search tests find nothing otherwise).

Neither is declared on the model (the FTS table is not a table of ours and the GIN indexes exist only on
PostgreSQL); ``webapp.db.include_in_autogenerate`` keeps them out of ``flask db migrate``'s comparison.

Revision ID: 9ed31ec19b70
Revises: 6d2e3f4a5b61
Create Date: 2026-11-24 03:40:00

"""

from alembic import op

revision = "9ed31ec19b70"
down_revision = "6d2e3f4a5b61"
branch_labels = None
depends_on = None

COLUMNS = ("name", "address", "uscc")

SQLITE_UPGRADE = (
    # drop_all() (tests, benchmarks) drops ``unit`` and its triggers but not this table, which no model declares
    "DROP TABLE IF EXISTS unit_fts",
    "CREATE VIRTUAL TABLE unit_fts USING fts5("
    " name, address, uscc, content='unit', content_rowid='id', tokenize='trigram')",
    "INSERT INTO unit_fts(unit_fts) VALUES ('rebuild')",
    "CREATE TRIGGER unit_fts_insert AFTER INSERT ON unit BEGIN"
    " INSERT INTO unit_fts(rowid, name, address, uscc) VALUES (new.id, new.name, new.address, new.uscc);"
    " END",
    "CREATE TRIGGER unit_fts_delete AFTER DELETE ON unit BEGIN"
    " INSERT INTO unit_fts(unit_fts, rowid, name, address, uscc)"
    " VALUES ('delete', old.id, old.name, old.address, old.uscc);"
    " END",
    "CREATE TRIGGER unit_fts_update AFTER UPDATE OF id, name, address, uscc ON unit BEGIN"
    " INSERT INTO unit_fts(unit_fts, rowid, name, address, uscc)"
    " VALUES ('delete', old.id, old.name, old.address, old.uscc);"
    " INSERT INTO unit_fts(rowid, name, address, uscc) VALUES (new.id, new.name, new.address, new.uscc);"
    " END",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS unit_fts_update",
    "DROP TRIGGER IF EXISTS unit_fts_delete",
    "DROP TRIGGER IF EXISTS unit_fts_insert",
    "DROP TABLE IF EXISTS unit_fts",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for col in COLUMNS:
            op.create_index(
                f"ix_unit_{col}_trgm", "unit", [col], postgresql_using="gin", postgresql_ops={col: "gin_trgm_ops"}
            )
    elif dialect == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for col in reversed(COLUMNS):
            op.drop_index(f"ix_unit_{col}_trgm", table_name="unit")
        # pg_trgm stays: dropping an extension needs its owner, and nothing else depends on it being absent
    elif dialect == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
