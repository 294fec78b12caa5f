"""draw v2: replacement secret, ceremony log, closing

Revision ID: e1a0c0ffee04
Revises: e1a0c0ffee03
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee04"
down_revision = "e1a0c0ffee03"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
