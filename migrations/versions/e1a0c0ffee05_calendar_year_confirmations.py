"""calendar: admin confirmations of years the holiday library does not know

Revision ID: e1a0c0ffee05
Revises: e1a0c0ffee04
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee05"
down_revision = "e1a0c0ffee04"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
