"""The boxes a relay serves.

Revision ID: r0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "boxes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("domain", sa.String(253), nullable=False, unique=True),
        # Only hashes of secrets are kept: the one-time code and the box's token.
        sa.Column("registration_code_hash", sa.String(128)),
        sa.Column("token_hash", sa.String(128)),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("revoked_at", sa.Integer),
    )


def downgrade():
    op.drop_table("boxes")
