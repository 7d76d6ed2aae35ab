"""Retention: inbound mail's bytes are cleared keep_days after the last box's ack.

Revision ID: r0005
Revises: r0004
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound") as batch:
        batch.add_column(sa.Column("cleared_at", sa.Integer))
    op.create_index("inbound_kept", "inbound", ["cleared_at", "received_at"])
    op.create_index("deliveries_inbound", "deliveries", ["inbound_id"])


def downgrade():
    op.drop_index("deliveries_inbound", "deliveries")
    op.drop_index("inbound_kept", "inbound")
    with op.batch_alter_table("inbound") as batch:
        batch.drop_column("cleared_at")
