"""calendar: admin confirmations of years the holiday library does not know

Revision ID: e1a0c0ffee05
Revises: e1a0c0ffee04
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee05"
down_revision = "e1a0c0ffee04"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_year")),
        sa.UniqueConstraint("year", name=op.f("uq_calendar_year_year")),
    )


def downgrade():
    op.drop_table("calendar_year")
