"""check-in: the organisation's radius and the reason for a far check-in

Revision ID: e1a0c0ffee06
Revises: e1a0c0ffee05
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee06"
down_revision = "e1a0c0ffee05"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
