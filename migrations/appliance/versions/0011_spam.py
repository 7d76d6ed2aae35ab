"""Spam and downloads: records owed to the relay (requests, verdicts, box settings), messages
the relay holds as spam (a line per recipient), and a user's own lower download limit.

Revision ID: a0011
Revises: a0010
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "a0011"
down_revision = "a0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "relay_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("record", sa.LargeBinary, nullable=False),
        sa.Column("queued_at", sa.Integer, nullable=False),
        sa.Column("taken_at", sa.Integer),
        sa.UniqueConstraint("kind", "key", name="uq_relay_requests_kind_key"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("relay_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_json", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("date", sa.Integer, nullable=False),
        sa.Column("until", sa.Integer, nullable=False),
        sa.UniqueConstraint("relay_id", "user_id", name="uq_held_messages_relay_user"),
    )
    op.create_index("ix_held_messages_user", "held_messages", ["user_id", "date"])
    op.create_table(
        "download_limits",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("bytes", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("download_limits")
    op.drop_index("ix_held_messages_user", "held_messages")
    op.drop_table("held_messages")
    op.drop_table("relay_requests")
