"""One word per concept, continued: the read state owed for other addresses' mail.

``account_flags`` (a0005) holds the read state a user set on mail that came through one of
their other addresses, owed to that address's IMAP server; it is named for them, as
``other_addresses`` is (a0009).  Its only index is SQLite's own for the unique column.

Revision ID: a0010
Revises: a0009
Create Date: 2026-12-06
"""

from alembic import op

revision = "a0010"
down_revision = "a0009"
branch_labels = None
depends_on = None

RENAMED = (("account_flags", "other_address_flags"),)


def upgrade():
    for old, new in RENAMED:
        op.rename_table(old, new)


def downgrade():
    for old, new in RENAMED:
        op.rename_table(new, old)
