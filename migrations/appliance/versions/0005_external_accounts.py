"""External accounts (issue #9): addresses elsewhere that the relay syncs for a box user,
the read-state changes owed to the relay, and the account mail came through or left by.

Revision ID: a0005
Revises: a0004
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "a0005"
down_revision = "a0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "external_accounts",
        sa.Column("id", sa.String(32), primary_key=True),  # random; the relay knows it by this
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),  # active, paused, removed
        # The servers and user name, never a secret: shown, and re-sealed with a new password.
        sa.Column("servers_json", sa.Text, nullable=False),
        # Settings sealed to the relay's key, waiting for a pouch; NULL once the relay took them.
        sa.Column("sealed", sa.LargeBinary),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),  # +1 a change
        sa.Column("taken_version", sa.Integer, nullable=False, server_default="0"),  # the relay has
        sa.Column("relay_state", sa.String(16)),  # as the relay last reported it
        sa.Column("relay_error", sa.Text, nullable=False, server_default=""),
        sa.Column("relay_at", sa.Integer),
        sa.Column("synced_at", sa.Integer),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "account_flags",  # read state set on the box, for the account's IMAP server
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("relay_message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("seen", sa.Boolean, nullable=False),
        sa.Column("at", sa.Integer, nullable=False),
        sqlite_autoincrement=True,  # ids never reused: a newer wish never passes for one already taken
    )
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("account_id", sa.String(32), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as table:
        table.drop_column("account_id")
    op.drop_table("account_flags")
    op.drop_table("external_accounts")
