"""inspections: client ids on findings and signatures, offline check-in times

Revision ID: e1a0c0ffee01
Revises: d6e2b9c4a718
Create Date: 2026-12-02 06:30:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "e1a0c0ffee01"
down_revision = "d6e2b9c4a718"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
