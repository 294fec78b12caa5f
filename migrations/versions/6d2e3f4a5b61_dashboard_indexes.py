"""indexes for the dashboard and publication at a million inspections

Revision ID: 6d2e3f4a5b61
Revises: 5c1d2e3f4a50
Create Date: 2026-11-23 13:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "6d2e3f4a5b61"
down_revision = "5c1d2e3f4a50"
branch_labels = None
depends_on = None

DRAFT = sa.text("status = 'draft'")


def upgrade():
    op.create_index("ix_inspection_submitted_at", "inspection", ["submitted_at"])
    op.create_index(
        "ix_inspection_draft_checkin", "inspection", ["checkin_at"], postgresql_where=DRAFT, sqlite_where=DRAFT
    )
    op.create_index("ix_finding_inspection_point", "finding", ["inspection_id", "point_id"])
    op.create_index("ix_task_assignment_task_inspector", "task_assignment", ["task_id", "inspector_id", "active"])


def downgrade():
    op.drop_index("ix_task_assignment_task_inspector", table_name="task_assignment")
    op.drop_index("ix_finding_inspection_point", table_name="finding")
    op.drop_index("ix_inspection_draft_checkin", table_name="inspection")
    op.drop_index("ix_inspection_submitted_at", table_name="inspection")
