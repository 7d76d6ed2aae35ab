"""Sync: bytes on the wire (HTTP heads included) beside the payload bytes in the
history, and when each outgoing message left the box.

Revision ID: a0004
Revises: a0003
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "a0004"
down_revision = "a0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_runs") as table:
        table.add_column(sa.Column("wire_bytes_up", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("wire_bytes_down", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("uploaded_at", sa.Integer, nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as table:
        table.drop_column("uploaded_at")
    with op.batch_alter_table("sync_runs") as table:
        table.drop_column("wire_bytes_down")
        table.drop_column("wire_bytes_up")
