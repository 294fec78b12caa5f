"""catalog: the common-problem library per item; findings from checklist points

Revision ID: e1a0c0ffee07
Revises: e1a0c0ffee06
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee07"
down_revision = "e1a0c0ffee06"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "common_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column(
            "order_kind",
            sa.Enum("immediate", "deadline", name="suggested_order", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("deadline_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_common_problem_item_id_item")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_common_problem_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_problem")),
    )
    op.create_index(op.f("ix_common_problem_item_id"), "common_problem", ["item_id"], unique=False)
    op.create_table(
        "common_problem_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("common_problem_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["finding.id"],
            name=op.f("fk_common_problem_use_finding_id_finding"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["common_problem_id"],
            ["common_problem.id"],
            name=op.f("fk_common_problem_use_common_problem_id_common_problem"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_common_problem_use")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_common_problem_use_finding_id")),
    )
    op.create_index(
        op.f("ix_common_problem_use_common_problem_id"), "common_problem_use", ["common_problem_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_common_problem_use_common_problem_id"), table_name="common_problem_use")
    op.drop_table("common_problem_use")
    op.drop_index(op.f("ix_common_problem_item_id"), table_name="common_problem")
    op.drop_table("common_problem")
