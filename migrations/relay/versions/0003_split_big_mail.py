"""Big mail travels in two parts: its record with the text first, its attachments later.

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("blobs_later", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("blobs_pouch_name", sa.String(200)))
        batch.add_column(sa.Column("blobs_delivered_at", sa.Integer))


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("blobs_delivered_at")
        batch.drop_column("blobs_pouch_name")
        batch.drop_column("blobs_later")
