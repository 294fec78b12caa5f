"""orders: the issue form's key (idempotent issuing) and one order of each kind per record

Revision ID: d6e2b9c4a718
Revises: f3a9c7d2b815
Create Date: 2026-12-02 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d6e2b9c4a718"
down_revision = "f3a9c7d2b815"
branch_labels = None
depends_on = None

# Orders issued before the key existed keep it empty; some of them may be the duplicates this revision stops
# (two orders of a kind for one record), so the index covers the keyed orders: every order issued from now on.
KEYED = sa.text("client_key IS NOT NULL")


def upgrade():
    with op.batch_alter_table("rectification_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_key", sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_rectification_order_client_key"), ["client_key"])
        batch_op.create_index(
            "uq_rectification_order_inspection_kind",
            ["inspection_id", "kind"],
            unique=True,
            sqlite_where=KEYED,
            postgresql_where=KEYED,
        )


def downgrade():
    with op.batch_alter_table("rectification_order", schema=None) as batch_op:
        batch_op.drop_index("uq_rectification_order_inspection_kind")
        batch_op.drop_constraint(batch_op.f("uq_rectification_order_client_key"), type_="unique")
        batch_op.drop_column("client_key")
