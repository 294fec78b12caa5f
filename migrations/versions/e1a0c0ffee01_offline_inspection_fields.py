"""inspections: client ids on findings and signatures, offline check-in times

Revision ID: e1a0c0ffee01
Revises: d6e2b9c4a718
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a0c0ffee01"
down_revision = "d6e2b9c4a718"
branch_labels = None
depends_on = None


def upgrade():
    # Findings and signatures made before this revision keep client_uuid empty (they are found by public_id).
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_uuid", sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_finding_client_uuid"), ["client_uuid"])
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_uuid", sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_signature_client_uuid"), ["client_uuid"])
    # Check-ins made before were all online: received when made, never offline.
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_received_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checkin_offline", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("checkin_device_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checkin_note", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_column("checkin_note")
        batch_op.drop_column("checkin_device_at")
        batch_op.drop_column("checkin_offline")
        batch_op.drop_column("checkin_received_at")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_signature_client_uuid"), type_="unique")
        batch_op.drop_column("client_uuid")
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_finding_client_uuid"), type_="unique")
        batch_op.drop_column("client_uuid")
