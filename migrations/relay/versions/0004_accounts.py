"""External IMAP accounts: the accounts, their folders, the map of synced messages, and
account status records owed to boxes (issue #9).

Revision ID: r0004
Revises: r0003
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("statuses") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="message"))
        batch.add_column(sa.Column("synced_at", sa.Integer))
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
        sa.Column("box_account_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sync_state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("synced_at", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("lease_until", sa.Float),
        sa.Column("next_attempt_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("box_id", "box_account_id"),
    )
    op.create_index("accounts_address", "accounts", ["address"])
    op.create_table(
        "account_folders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger),
        sa.Column("uidnext", sa.BigInteger),
        sa.Column("highestmodseq", sa.BigInteger),
        sa.UniqueConstraint("account_id", "role"),
    )
    op.create_table(
        "account_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("folder_id", sa.Integer, sa.ForeignKey("account_folders.id"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger),
        sa.Column("uid", sa.BigInteger),
        sa.Column("inbound_id", sa.Integer, sa.ForeignKey("inbound.id")),
        sa.Column("seen", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("seen_wanted", sa.Boolean),
        sa.Column("wanted_at", sa.Integer),
        sa.UniqueConstraint("account_id", "key"),
    )
    op.create_index("account_messages_uid", "account_messages", ["folder_id", "uidvalidity", "uid"])
    op.create_index("account_messages_inbound", "account_messages", ["inbound_id"])
    op.create_index("account_messages_wanted", "account_messages", ["account_id", "seen_wanted"])


def downgrade():
    for table in ("account_messages", "account_folders", "accounts"):
        op.drop_table(table)
    with op.batch_alter_table("statuses") as batch:
        batch.drop_column("synced_at")
        batch.drop_column("kind")
