"""扫码亮证: the inspection's public code, scans, ratings and reports

Revision ID: e1a0c0ffee08
Revises: e1a0c0ffee07
Create Date: 2026-12-02 07:00:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee08"
down_revision = "e1a0c0ffee07"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
