"""draw v2: replacement secret, ceremony log, closing

Revision ID: e1a0c0ffee04
Revises: e1a0c0ffee03
Create Date: 2026-12-02 06:30:00

Draws committed before this revision are ``suijian-draw/1`` (the server default of ``draw.spec``); they keep
their single secret and have no ceremony log. A 递补 may now fill a slot that was empty (``out`` null).
"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee04"
down_revision = "e1a0c0ffee03"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("draw") as batch:
        batch.add_column(sa.Column("spec", sa.String(length=20), server_default="suijian-draw/1", nullable=False))
        batch.add_column(sa.Column("replacement_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("replacement_commitment", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("early_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("replacement") as batch:
        batch.add_column(sa.Column("excluded_now", sa.Text(), nullable=True))
        batch.alter_column("out_inspector_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "draw_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("at", sa.String(length=20), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draw.id"], name=op.f("fk_draw_event_draw_id_draw")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_event")),
        sa.UniqueConstraint("draw_id", "n", name="uq_draw_event_draw_n"),
    )
    op.create_index(op.f("ix_draw_event_draw_id"), "draw_event", ["draw_id"])


def downgrade():
    op.drop_index(op.f("ix_draw_event_draw_id"), table_name="draw_event")
    op.drop_table("draw_event")
    with op.batch_alter_table("replacement") as batch:
        batch.alter_column("out_inspector_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("excluded_now")
    with op.batch_alter_table("draw") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("early_reason")
        batch.drop_column("replacement_commitment")
        batch.drop_column("replacement_secret")
        batch.drop_column("spec")
