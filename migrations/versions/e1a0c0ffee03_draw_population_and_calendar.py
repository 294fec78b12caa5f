"""units' object types, items' target types, calendar year confirmations

Revision ID: e1a0c0ffee03
Revises: e1a0c0ffee02
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee03"
down_revision = "e1a0c0ffee02"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
