"""Placeholders: attachments whose bytes wait on the relay until a user asks for them, and the
originals of photos the relay shrank (issue 16).

``held``: the bytes stay on the relay (over the box's automatic limit) until asked for (the
request waits in ``relay_requests``, a0011); ``preview``: a few KB of an image to show meanwhile.
``original_size``/``original_sha256``: the relay sent a shrunk photo and keeps its original.

Revision ID: a0012
Revises: a0011
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "a0012"
down_revision = "a0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attachments") as table:
        table.add_column(sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("preview", sa.LargeBinary, nullable=True))
        table.add_column(sa.Column("original_size", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("original_sha256", sa.String(64), nullable=True))
        table.create_index("ix_attachments_original_sha256", ["original_sha256"])


def downgrade():
    with op.batch_alter_table("attachments") as table:
        table.drop_index("ix_attachments_original_sha256")
        for name in ("original_sha256", "original_size", "preview", "held"):
            table.drop_column(name)
