"""The relay's tables (SQLAlchemy Core).  migrations/relay creates them.

Nothing lives only in memory: inbound mail (raw MIME kept), each box's
delivery queue, the pouches offered and taken, outbound sends and the status
records owed to boxes are all rows, so any relay process can pick work up.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

boxes = sa.Table(
    "boxes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(63), nullable=False, unique=True),
    sa.Column("domain", sa.String(253), nullable=False, unique=True),
    sa.Column("registration_code_hash", sa.String(128)),
    sa.Column("token_hash", sa.String(128)),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("revoked_at", sa.Integer),
    sa.Column("last_sync_at", sa.Integer),
)

# The shared-domain mode: one domain, a directory of addresses each owned by a box.
addresses = sa.Table(
    "addresses", metadata,
    sa.Column("address", sa.String(320), primary_key=True),  # lower case
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
)

inbound = sa.Table(
    "inbound", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("received_at", sa.Integer, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),  # sendgrid | smtp | box
    sa.Column("mail_from", sa.String(320), nullable=False, server_default=""),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    # The record and blobs converted from raw ahead of any sync (relay.payload), so packing
    # during a box's sync, while its modem is online, only compresses.
    sa.Column("prepared", sa.LargeBinary),
    sa.Column("prepared_at", sa.Integer),
    sa.Index("inbound_unprepared", "prepared_at"),
)

# One row per (message, box): mail for several boxes is queued once per box.
deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("inbound_id", sa.Integer, sa.ForeignKey("inbound.id"), nullable=False),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),  # JSON list of the box's addresses
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("pouch_name", sa.String(200)),  # the pouch it was last offered in
    sa.Column("delivered_at", sa.Integer),  # set only when the box acks that pouch
    sa.UniqueConstraint("inbound_id", "box_id"),
    sa.Index("deliveries_pending", "box_id", "delivered_at"),
)

# The fate of each message a box sent, owed to that box in a later pouch.
statuses = sa.Table(
    "statuses", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("at", sa.Integer, nullable=False),
    sa.Column("pouch_name", sa.String(200)),
    sa.Column("delivered_at", sa.Integer),
    sa.Index("statuses_pending", "box_id", "delivered_at"),
)

# Pouches going down (offered until acked) and up (expected, then taken over).
pouches = sa.Table(
    "pouches", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("direction", sa.String(4), nullable=False),  # down | up
    sa.Column("state", sa.String(16), nullable=False),  # offered, acked | expected, taken, rejected
    sa.Column("size", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("done_at", sa.Integer),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Index("pouches_open", "box_id", "direction", "state"),
)

# Messages boxes sent, one row per (box, record id): a repeated upload cannot add a second.
outbound = sa.Table(
    "outbound", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("record_id", sa.String(255), nullable=False),
    sa.Column("pouch_name", sa.String(200), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # msgpack: the record and its blobs
    sa.Column("recipients", sa.Text, nullable=False),  # JSON list of internet addresses
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # queued | sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("done_at", sa.Integer),
    sa.UniqueConstraint("box_id", "record_id"),
    sa.Index("outbound_due", "state", "next_attempt_at"),
)
