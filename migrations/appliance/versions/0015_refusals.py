"""Requests the relay refused (a RefusalRecord came down): the reason stays on the request's row,
so the page says why instead of "asked for" (appliance.store.relay_requests).

Revision ID: a0015
Revises: a0014
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa

revision = "a0015"
down_revision = "a0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("relay_requests") as table:
        table.add_column(sa.Column("refusal", sa.Text, nullable=True))


def downgrade():
    with op.batch_alter_table("relay_requests") as table:
        table.drop_column("refusal")
