"""job heartbeats (a worker killed mid-job is noticed) and the dashboard's figures shared by every app server

Revision ID: a7c4e1f09b21
Revises: 9ed31ec19b70
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7c4e1f09b21"
down_revision = "9ed31ec19b70"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("import_job", "export_job"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dashboard_figures",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table("dashboard_figures")
    for table in ("export_job", "import_job"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("heartbeat_at")
