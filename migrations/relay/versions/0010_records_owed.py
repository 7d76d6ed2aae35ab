"""Records owed to a box (kind, subject, fields), packed generically.

Revision ID: r0010
Revises: r0009
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "r0010"
down_revision = "r0009"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
