"""offline: the sync ledger (client ids) and device reports

Revision ID: e1a0c0ffee02
Revises: e1a0c0ffee01
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee02"
down_revision = "e1a0c0ffee01"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
