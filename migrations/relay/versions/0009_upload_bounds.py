"""Bounds on what a box can make the relay hold: staged uploads, quotas.

Revision ID: r0009
Revises: r0008
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "r0009"
down_revision = "r0008"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
