"""offline: the sync ledger (client ids) and device reports

Revision ID: e1a0c0ffee02
Revises: e1a0c0ffee01
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee02"
down_revision = "e1a0c0ffee01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sync_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("queued", sa.Boolean(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_sync_ledger_user_id_user")),
        sa.ForeignKeyConstraint(["imported_by_id"], ["user.id"], name=op.f("fk_sync_ledger_imported_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_ledger")),
        sa.UniqueConstraint("user_id", "client_id", name="uq_sync_ledger_user_id_client_id"),
    )
    op.create_table(
        "device_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("oldest_pending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("storage_usage", sa.BigInteger(), nullable=True),
        sa.Column("storage_quota", sa.BigInteger(), nullable=True),
        sa.Column("persisted", sa.Boolean(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_device_report_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_report")),
        sa.UniqueConstraint("user_id", "device_id", name="uq_device_report_user_id_device_id"),
    )
    with op.batch_alter_table("device_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_report_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("device_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_report_user_id"))
    op.drop_table("device_report")
    op.drop_table("sync_ledger")
