"""The box's own identity and its link to a relay.

Revision ID: a0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # One row of key/value state: registration with the relay, last sync, ...
    op.create_table(
        "box_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("box_state")
