"""Sign-in sessions kept on the box, so logout ends them.

Revision ID: a0007
Revises: a0006
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = "a0007"
down_revision = "a0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),  # sha256 of the cookie's token
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("sessions")
