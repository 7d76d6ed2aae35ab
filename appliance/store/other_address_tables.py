"""Tables of users' other addresses (migration a0005, renamed in a0009 and a0010): the addresses and the
read state owed to the relay."""

import sqlalchemy as sa

from appliance.store.tables import metadata

other_addresses = sa.Table(
    "other_addresses", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("address", sa.String(254), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False, default=""),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("servers_json", sa.Text, nullable=False),
    sa.Column("sealed", sa.LargeBinary),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("taken_version", sa.Integer, nullable=False, default=0),
    sa.Column("relay_state", sa.String(16)),
    sa.Column("relay_error", sa.Text, nullable=False, default=""),
    sa.Column("relay_at", sa.Integer),
    sa.Column("synced_at", sa.Integer),
    sa.Column("created_at", sa.Integer, nullable=False),
)

other_address_flags = sa.Table(
    "other_address_flags", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("relay_message_id", sa.String(200), nullable=False, unique=True),
    sa.Column("seen", sa.Boolean, nullable=False),
    sa.Column("at", sa.Integer, nullable=False),
    sqlite_autoincrement=True,
)
