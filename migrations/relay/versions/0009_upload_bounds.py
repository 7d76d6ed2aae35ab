"""Bounds on what a box can make the relay hold: staged uploads, quotas.

Uploads still expected are found by age (relay.retention expires them), and a
refused message's status can carry an id longer than the outbound queue takes.

Revision ID: r0009
Revises: r0008
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = "r0009"
down_revision = "r0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("pouches_waiting", "pouches", ["direction", "state", "created_at"])
    with op.batch_alter_table("statuses") as batch:
        batch.alter_column("message_id", type_=sa.String(1000), existing_type=sa.String(255),
                           existing_nullable=False)


def downgrade():
    with op.batch_alter_table("statuses") as batch:
        batch.alter_column("message_id", type_=sa.String(255), existing_type=sa.String(1000),
                           existing_nullable=False)
    op.drop_index("pouches_waiting", "pouches")
