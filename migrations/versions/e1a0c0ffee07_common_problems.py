"""catalog: the common-problem library per item; findings from checklist points

Revision ID: e1a0c0ffee07
Revises: e1a0c0ffee06
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee07"
down_revision = "e1a0c0ffee06"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
