"""Copies for an account's Sent folder that could not be put there at once, kept for retries.

Revision ID: r0006
Revises: r0005
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sent_copies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("sent_copies_due", "sent_copies", ["account_id", "next_attempt_at"])


def downgrade():
    op.drop_table("sent_copies")
