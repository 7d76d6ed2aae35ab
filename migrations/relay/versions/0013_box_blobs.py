"""Which blobs each box holds (relay.boxsync.holdings): box_blobs, a row per (box, sha256, pouch).

Revision ID: r0013
Revises: r0012
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "r0013"
down_revision = "r0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "box_blobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pouch_name", sa.String(200), nullable=False),
        sa.Column("carried", sa.Boolean, nullable=False),
        sa.Column("acked_at", sa.Integer),
        sa.UniqueConstraint("box_id", "sha256", "pouch_name"),
    )
    op.create_index("box_blobs_pouch", "box_blobs", ["pouch_name"])


def downgrade():
    op.drop_index("box_blobs_pouch", "box_blobs")
    op.drop_table("box_blobs")
