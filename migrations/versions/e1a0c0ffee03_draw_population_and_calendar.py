"""units' object types, items' target types (the draw's population)

Every existing unit becomes a 社会单位 and every existing item version targets 社会单位, except the versions of
the preloaded technical-service item (code ``fire-service``, 对社会消防技术服务机构开展的检测、维保服务项目规范性
情况的抽查), which target 消防技术服务机构: until its firms are marked as such it draws nobody, which is right.

Revision ID: e1a0c0ffee03
Revises: e1a0c0ffee02
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee03"
down_revision = "e1a0c0ffee02"
branch_labels = None
depends_on = None

SOCIAL_UNIT = "social_unit"
TECH_SERVICE = "tech_service"
TECH_SERVICE_ITEM = "fire-service"  # webapp.catalog.seed: the item of 消防技术服务机构


def upgrade():
    # Adding a column with a default and an index never recreates ``unit`` on SQLite (its FTS triggers stay).
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "object_type",
                sa.Enum(
                    "social_unit", "tech_service", "civil_defence", name="object_type", native_enum=False, length=20
                ),
                server_default=SOCIAL_UNIT,
                nullable=False,
            )
        )
        batch_op.create_index("ix_unit_org_object_type", ["org_id", "object_type"], unique=False)
    with op.batch_alter_table("item_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target_types", sa.String(length=100), server_default=SOCIAL_UNIT, nullable=False)
        )
    item = sa.table("item", sa.column("id", sa.Integer), sa.column("code", sa.String))
    version = sa.table("item_version", sa.column("item_id", sa.Integer), sa.column("target_types", sa.String))
    op.execute(
        version.update()
        .where(version.c.item_id.in_(sa.select(item.c.id).where(item.c.code == TECH_SERVICE_ITEM)))
        .values(target_types=TECH_SERVICE)
    )


def downgrade():
    op.drop_index("ix_unit_org_object_type", table_name="unit")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+). Batch mode would recreate the tables: ``unit`` would lose the unit_fts triggers
        # of 9ed31ec19b70, and dropping the old ``item_version`` fails while checklist points refer to it.
        op.execute("ALTER TABLE item_version DROP COLUMN target_types")
        op.execute("ALTER TABLE unit DROP COLUMN object_type")
    else:
        op.drop_column("item_version", "target_types")
        op.drop_column("unit", "object_type")
