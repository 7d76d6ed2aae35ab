"""Store rules: Bcc kept with the sender, senders and limits checked in the store.

Revision ID: a0008
Revises: a0007
Create Date: 2026-12-06
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "a0008"
down_revision = "a0007"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
