"""Pouches and messages the box could not take, set aside with their reason.

Revision ID: a0006
Revises: a0005
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = "a0006"
down_revision = "a0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "set_aside",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pouch_name", sa.String(300), nullable=False),
        sa.Column("record_id", sa.String(300)),  # NULL: the whole pouch could not be read
        sa.Column("summary", sa.Text, nullable=False, server_default=""),  # sender and subject
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("file", sa.String(300), nullable=False, server_default=""),  # in <data_dir>/set-aside
        sa.Column("at", sa.Integer, nullable=False),
        sa.Column("reported_at", sa.Integer),  # when the relay was told
    )


def downgrade():
    op.drop_table("set_aside")
