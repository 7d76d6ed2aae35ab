"""Mail the relay could not pack or send is set aside with its reason (quarantine).

Revision ID: r0007
Revises: r0006
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
