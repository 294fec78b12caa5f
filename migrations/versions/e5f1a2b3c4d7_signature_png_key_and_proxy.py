"""signatures: the stored PNG's key, and 代签 (who signed for an inspector, and why)

Revision ID: e5f1a2b3c4d7
Revises: c4d8e2a1f6b3
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e5f1a2b3c4d7"
down_revision = "c4d8e2a1f6b3"
branch_labels = None
depends_on = None


def upgrade():
    # existing signatures keep png_key empty: their PNG is drawn once on first view and stored then
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("png_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("proxy_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("proxy_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_signature_proxy_by_id_inspector"), "inspector", ["proxy_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_signature_proxy_by_id_inspector"), type_="foreignkey")
        batch_op.drop_column("proxy_reason")
        batch_op.drop_column("proxy_by_id")
        batch_op.drop_column("png_key")
