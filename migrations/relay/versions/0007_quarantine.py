"""Mail the relay could not pack or send is set aside with its reason (quarantine).

Revision ID: r0007
Revises: r0006
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound") as batch:
        batch.add_column(sa.Column("quarantined_at", sa.Integer))
        batch.add_column(sa.Column("quarantine_reason", sa.Text))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("quarantined_at", sa.Integer))
        batch.add_column(sa.Column("quarantine_reason", sa.Text))
        batch.add_column(sa.Column("dropped_at", sa.Integer))
    op.create_index("deliveries_quarantined", "deliveries", ["quarantined_at"])


def downgrade():
    op.drop_index("deliveries_quarantined", "deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("dropped_at")
        batch.drop_column("quarantine_reason")
        batch.drop_column("quarantined_at")
    with op.batch_alter_table("inbound") as batch:
        batch.drop_column("quarantine_reason")
        batch.drop_column("quarantined_at")
