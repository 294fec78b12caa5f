"""check-in: the organisation's radius and the reason for a far check-in

Revision ID: e1a0c0ffee06
Revises: e1a0c0ffee05
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee06"
down_revision = "e1a0c0ffee05"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "org_checkin_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisation.id"], name=op.f("fk_org_checkin_settings_org_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_checkin_settings")),
        sa.UniqueConstraint("org_id", name=op.f("uq_org_checkin_settings_org_id")),
    )
    op.create_table(
        "checkin_place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("unit_lat", sa.Float(), nullable=True),
        sa.Column("unit_lon", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("far_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspection.id"], name=op.f("fk_checkin_place_inspection_id_inspection")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_place")),
        sa.UniqueConstraint("inspection_id", name=op.f("uq_checkin_place_inspection_id")),
    )


def downgrade():
    op.drop_table("checkin_place")
    op.drop_table("org_checkin_settings")
