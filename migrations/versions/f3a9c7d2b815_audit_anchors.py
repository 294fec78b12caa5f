"""audit anchors: the published chain heads (审计日志校验值)

Revision ID: f3a9c7d2b815
Revises: e5f1a2b3c4d7
Create Date: 2026-12-02 03:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f3a9c7d2b815"
down_revision = "e5f1a2b3c4d7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_audit_anchor_storage_key")),
    )
    op.create_index(op.f("ix_audit_anchor_day"), "audit_anchor", ["day"])


def downgrade():
    op.drop_index(op.f("ix_audit_anchor_day"), table_name="audit_anchor")
    op.drop_table("audit_anchor")
