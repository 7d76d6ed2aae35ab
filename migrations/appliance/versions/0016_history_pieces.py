"""The text of the pouches the box took, which the relay packs the next ones against
(appliance.store.history, pouch.container.history).

Revision ID: a0016
Revises: a0015
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "a0016"
down_revision = "a0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "history_pieces",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("piece_id", sa.String(16), nullable=False, unique=True),
        sa.Column("pouch_name", sa.String(200), nullable=False),
        sa.Column("piece", sa.LargeBinary, nullable=False),
        sa.Column("taken_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_history_pieces_pouch_name", "history_pieces", ["pouch_name"])


def downgrade():
    op.drop_index("ix_history_pieces_pouch_name", "history_pieces")
    op.drop_table("history_pieces")
