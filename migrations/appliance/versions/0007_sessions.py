"""Sign-in sessions kept on the box, so logout ends them.

Revision ID: a0007
Revises: a0006
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "a0007"
down_revision = "a0006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
