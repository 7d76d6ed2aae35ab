"""One word per concept: the tables carry the names the UI gives them.

Revision ID: a0009
Revises: a0008
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "a0009"
down_revision = "a0008"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
