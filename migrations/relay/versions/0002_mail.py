"""Mail flowing through the relay: addresses, inbound, queues, pouches, outbound.

Revision ID: r0002
Revises: r0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("boxes") as batch:
        batch.add_column(sa.Column("last_sync_at", sa.Integer))
    op.create_table(
        "addresses",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    )
    op.create_table(
        "inbound",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_at", sa.Integer, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("mail_from", sa.String(320), nullable=False, server_default=""),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("prepared", sa.LargeBinary),
        sa.Column("prepared_at", sa.Integer),
    )
    op.create_index("inbound_unprepared", "inbound", ["prepared_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inbound_id", sa.Integer, sa.ForeignKey("inbound.id"), nullable=False),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("pouch_name", sa.String(200)),
        sa.Column("delivered_at", sa.Integer),
        sa.UniqueConstraint("inbound_id", "box_id"),
    )
    op.create_index("deliveries_pending", "deliveries", ["box_id", "delivered_at"])
    op.create_table(
        "statuses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.Integer, nullable=False),
        sa.Column("pouch_name", sa.String(200)),
        sa.Column("delivered_at", sa.Integer),
    )
    op.create_index("statuses_pending", "statuses", ["box_id", "delivered_at"])
    op.create_table(
        "pouches",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("done_at", sa.Integer),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("pouches_open", "pouches", ["box_id", "direction", "state"])
    op.create_table(
        "outbound",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("pouch_name", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("done_at", sa.Integer),
        sa.UniqueConstraint("box_id", "record_id"),
    )
    op.create_index("outbound_due", "outbound", ["state", "next_attempt_at"])


def downgrade():
    for table in ("outbound", "pouches", "statuses", "deliveries", "inbound", "addresses"):
        op.drop_table(table)
    with op.batch_alter_table("boxes") as batch:
        batch.drop_column("last_sync_at")
