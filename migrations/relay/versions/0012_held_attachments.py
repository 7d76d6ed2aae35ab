"""Big attachments on request: the limit each delivery's record was packed under, and the held
attachments and originals boxes asked for (relay.boxsync.placeholders, relay.boxsync.requests).

Revision ID: r0012
Revises: r0011
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "r0012"
down_revision = "r0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("packed_limit", sa.BigInteger))
    op.create_table(
        "requested_blobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("what", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.Integer, nullable=False),
        sa.Column("pouch_name", sa.String(200)),
        sa.Column("delivered_at", sa.Integer),
        sa.UniqueConstraint("delivery_id", "sha256"),
    )
    op.create_index("requested_blobs_pending", "requested_blobs", ["box_id", "delivered_at"])


def downgrade():
    op.drop_index("requested_blobs_pending", "requested_blobs")
    op.drop_table("requested_blobs")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("packed_limit")
