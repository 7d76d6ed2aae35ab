"""Pouches and messages the box could not take, set aside with their reason.

Revision ID: a0006
Revises: a0005
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "a0006"
down_revision = "a0005"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
