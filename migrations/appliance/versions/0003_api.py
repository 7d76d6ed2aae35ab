"""The JSON API: each user's API tokens (stored hashed) and files uploaded for drafts.

Revision ID: a0003
Revises: a0002
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "a0003"
down_revision = "a0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("last_used_at", sa.Integer),
    )
    # Files uploaded through the API before a draft names them (Nylas: POST /files).
    op.create_table(
        "api_uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(127), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("api_uploads")
    op.drop_table("api_tokens")
