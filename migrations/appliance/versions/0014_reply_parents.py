"""Replies packed against their parents (issue 16): when mail came down, and the text of
messages deleted on the box, kept a while so a reply packed against one still reads.

``messages.received_at``: when the box imported a message from the relay (NULL for older
mail and the box's own); a reply the box sends is packed against one received lately, which
the relay still holds.  ``reply_parents``: the body of a received or sent message a user
deleted for good, until ``kept_until`` (appliance.store.reply_parents).

Revision ID: a0014
Revises: a0013
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "a0014"
down_revision = "a0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("received_at", sa.Integer, nullable=True))
    op.create_table(
        "reply_parents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kept_until", sa.Integer, nullable=False),
    )
    op.create_index("ix_reply_parents_message_id", "reply_parents", ["message_id"])
    op.create_index("ix_reply_parents_kept_until", "reply_parents", ["kept_until"])


def downgrade():
    op.drop_index("ix_reply_parents_kept_until", "reply_parents")
    op.drop_index("ix_reply_parents_message_id", "reply_parents")
    op.drop_table("reply_parents")
    with op.batch_alter_table("messages") as table:
        table.drop_column("received_at")
