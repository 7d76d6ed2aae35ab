"""One word per concept: the tables carry the names the UI gives them.

A user's other addresses ("Your other addresses" in Settings: Gmail, Yahoo, a school
account) were kept in ``external_accounts``; the table, and its index, are named for them.

Revision ID: a0009
Revises: a0008
Create Date: 2026-12-06
"""

from alembic import op

revision = "a0009"
down_revision = "a0008"
branch_labels = None
depends_on = None

RENAMED = (("external_accounts", "other_addresses"),)


def upgrade():
    for old, new in RENAMED:
        _rename(old, new)


def downgrade():
    for old, new in RENAMED:
        _rename(new, old)


def _rename(old, new):
    op.drop_index(f"ix_{old}_user_id", table_name=old)
    op.rename_table(old, new)
    op.create_index(f"ix_{new}_user_id", new, ["user_id"])
