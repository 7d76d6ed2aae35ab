"""Inbound mail is delivered once per recipient however often the sender retries.

Revision ID: r0008
Revises: r0007
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_once",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("box_id", "address", "key"),
    )
    op.create_index("inbound_once_seen", "inbound_once", ["seen_at"])


def downgrade():
    op.drop_table("inbound_once")
