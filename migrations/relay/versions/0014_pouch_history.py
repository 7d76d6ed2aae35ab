"""The text of each pouch packed for a box that keeps pieces, and what it was packed against
(relay.boxsync.history, pouch.container.history): pouch_history.

Revision ID: r0014
Revises: r0013
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "r0014"
down_revision = "r0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pouch_history",
        sa.Column("pouch_name", sa.String(200), sa.ForeignKey("pouches.name"), primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("piece_id", sa.String(16)),
        sa.Column("piece", sa.LargeBinary),
        sa.Column("against", sa.String(16)),
    )
    op.create_index("ix_pouch_history_box_id", "pouch_history", ["box_id"])


def downgrade():
    op.drop_index("ix_pouch_history_box_id", "pouch_history")
    op.drop_table("pouch_history")
