"""扫码亮证: the inspection's public code, scans, ratings and reports

Revision ID: e1a0c0ffee08
Revises: e1a0c0ffee07
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee08"
down_revision = "e1a0c0ffee07"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inspection_trace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("scan_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspection.id"], name=op.f("fk_inspection_trace_inspection_id_inspection")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_inspection_trace_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_trace")),
        sa.UniqueConstraint("inspection_id", name=op.f("uq_inspection_trace_inspection_id")),
        sa.UniqueConstraint("token", name=op.f("uq_inspection_trace_token")),
    )
    with op.batch_alter_table("inspection_trace", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_trace_org_id"), ["org_id"], unique=False)
    op.create_table(
        "trace_scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["inspection_trace.id"], name=op.f("fk_trace_scan_trace_id_inspection_trace")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_scan")),
    )
    with op.batch_alter_table("trace_scan", schema=None) as batch_op:
        batch_op.create_index("ix_trace_scan_trace_at", ["trace_id", "at"], unique=False)
    op.create_table(
        "trace_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("visit_confirmed", sa.Boolean(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_trace_rating_score_range")),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["inspection_trace.id"], name=op.f("fk_trace_rating_trace_id_inspection_trace")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_trace_rating_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_rating")),
        sa.UniqueConstraint("trace_id", name=op.f("uq_trace_rating_trace_id")),
    )
    with op.batch_alter_table("trace_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trace_rating_org_id"), ["org_id"], unique=False)
    op.create_table(
        "trace_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["inspection_trace.id"], name=op.f("fk_trace_report_trace_id_inspection_trace")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_trace_report_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_report")),
    )
    with op.batch_alter_table("trace_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trace_report_trace_id"), ["trace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trace_report_org_id"), ["org_id"], unique=False)


def downgrade():
    with op.batch_alter_table("trace_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trace_report_org_id"))
        batch_op.drop_index(batch_op.f("ix_trace_report_trace_id"))
    op.drop_table("trace_report")
    with op.batch_alter_table("trace_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trace_rating_org_id"))
    op.drop_table("trace_rating")
    with op.batch_alter_table("trace_scan", schema=None) as batch_op:
        batch_op.drop_index("ix_trace_scan_trace_at")
    op.drop_table("trace_scan")
    with op.batch_alter_table("inspection_trace", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_trace_org_id"))
    op.drop_table("inspection_trace")
