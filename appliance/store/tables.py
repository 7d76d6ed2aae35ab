"""The store's tables as SQLAlchemy Core objects (the schema is migration a0002)."""

import sqlalchemy as sa

metadata = sa.MetaData()

box_state = sa.Table(
    "box_state", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Integer, nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False, default=""),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("suspended", sa.Boolean, nullable=False, default=False),
    sa.Column("language", sa.String(16)),
    sa.Column("created_at", sa.Integer, nullable=False),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(64), nullable=False, unique=True),
    sa.Column("origin_id", sa.String(200), unique=True),  # relay's id for incoming mail
    sa.Column("sender_user_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("from_json", sa.Text, nullable=False),
    sa.Column("to_json", sa.Text, nullable=False),
    sa.Column("cc_json", sa.Text, nullable=False),
    sa.Column("bcc_json", sa.Text, nullable=False),
    sa.Column("reply_to_json", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("date", sa.Integer, nullable=False),
    sa.Column("message_id", sa.String(300), nullable=False, index=True),
    sa.Column("in_reply_to", sa.String(300)),
    sa.Column("references", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("body_type", sa.String(8), nullable=False),
    sa.Column("snippet", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("state_reason", sa.Text, nullable=False, default=""),
    sa.Column("state_at", sa.Integer),
    sa.Column("envelope_json", sa.Text, nullable=False, default="[]"),  # outside recipients
    sa.Column("uploaded_at", sa.Integer),  # when it left the box (migration a0004)
    sa.Column("account_id", sa.String(32)),  # the external account it came to or leaves by (a0005)
    sa.Column("received_at", sa.Integer),  # when it came down from the relay (a0014; NULL: before, or the box's)
    sa.Index("ix_messages_state_sender", "state", "sender_user_id"),
)

threads = sa.Table(
    "threads", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("subject_key", sa.String(200), nullable=False),
    sa.Column("last_date", sa.Integer, nullable=False),
    sa.Index("ix_threads_user_subject", "user_id", "subject_key"),
)

user_messages = sa.Table(
    "user_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    sa.Column("thread_id", sa.Integer, sa.ForeignKey("threads.id"), nullable=False),
    sa.Column("folder", sa.String(16), nullable=False),
    sa.Column("is_read", sa.Boolean, nullable=False, default=False),
    sa.Column("starred", sa.Boolean, nullable=False, default=False),
    sa.Column("date", sa.Integer, nullable=False),
    sa.Index("ix_user_messages_folder", "user_id", "folder", "date"),
    sa.Index("ix_user_messages_message", "message_id"),
    sa.Index("ix_user_messages_thread", "thread_id", "date"),
    sa.Index("ix_user_messages_unread", "user_id", "folder", "is_read"),
)

attachments = sa.Table(
    "attachments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(127), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("cid", sa.String(255)),
    sa.Column("inline", sa.Boolean, nullable=False, default=False),
    # Placeholders (a0012): bytes that wait on the relay until asked for, a shrunk photo's original.
    sa.Column("held", sa.Boolean, nullable=False, default=False),
    sa.Column("preview", sa.LargeBinary),  # WebP or JPEG of a few KB (pouch.images.preview)
    sa.Column("original_size", sa.Integer, nullable=False, default=0),
    sa.Column("original_sha256", sa.String(64), index=True),
)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("last_seen", sa.Integer, nullable=False),
    sa.Column("times", sa.Integer, nullable=False, default=1),
)

changes = sa.Table(
    "changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("object_id", sa.Integer, nullable=False),
    sa.Column("op", sa.String(8), nullable=False),
    sa.Column("at", sa.Integer, nullable=False),
)

sync_runs = sa.Table(
    "sync_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", sa.Integer, nullable=False),
    sa.Column("finished_at", sa.Integer),
    sa.Column("ok", sa.Boolean, nullable=False, default=False),
    sa.Column("bytes_up", sa.Integer, nullable=False, default=0),
    sa.Column("bytes_down", sa.Integer, nullable=False, default=0),
    sa.Column("messages_up", sa.Integer, nullable=False, default=0),
    sa.Column("messages_down", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("wire_bytes_up", sa.Integer, nullable=False, default=0),  # migration a0004
    sa.Column("wire_bytes_down", sa.Integer, nullable=False, default=0),
)

# Pouches and messages from the relay the box could not take (migration a0006).
set_aside = sa.Table(
    "set_aside", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pouch_name", sa.String(300), nullable=False),
    sa.Column("record_id", sa.String(300)),  # None: the whole pouch could not be read
    sa.Column("summary", sa.Text, nullable=False, default=""),  # sender and subject of a message
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("file", sa.String(300), nullable=False, default=""),  # in <data_dir>/set-aside
    sa.Column("at", sa.Integer, nullable=False),
    sa.Column("reported_at", sa.Integer),  # when the relay was told
)

sessions = sa.Table(  # migration a0007: a signed-in browser; the cookie holds the id, this its sha256
    "sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Integer, nullable=False),
)

# Migration a0011: records owed to the relay (appliance.store.relay_requests), one row per thing owed.
relay_requests = sa.Table(
    "relay_requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # the wire kind: request, verdict, box settings
    sa.Column("key", sa.String(500), nullable=False),  # what makes two of a kind the same thing owed
    sa.Column("record", sa.LargeBinary, nullable=False),  # msgpack of its wire fields
    sa.Column("queued_at", sa.Integer, nullable=False),
    sa.Column("taken_at", sa.Integer),  # a request the relay took, its answer still to come
    sa.Column("refusal", sa.Text),  # a0015: the relay will not serve it, and why (a RefusalRecord)
    sa.UniqueConstraint("kind", "key", name="uq_relay_requests_kind_key"),
    sqlite_autoincrement=True,
)

# Migration a0013 (appliance.store.blob_refs): attachments the relay holds for this box, since
# when it last sent or named them (a forward names them instead of uploading them meanwhile).
relay_blobs = sa.Table(
    "relay_blobs", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("received_at", sa.Integer, nullable=False),
)

# Migration a0013: attachments the relay counted on the box holding that it lacks, told once.
missing_blobs = sa.Table(
    "missing_blobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("relay_id", sa.String(200), nullable=False),  # the relay's record id of the message
    sa.Column("reported_at", sa.Integer),
    sa.UniqueConstraint("sha256", "relay_id", name="uq_missing_blobs_sha256_relay"),
)

# Migration a0011: messages the relay holds as spam, a line per recipient on the box.
held_messages = sa.Table(
    "held_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("relay_id", sa.String(200), nullable=False),  # the relay's record id (HeldRecord.id)
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("from_json", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("date", sa.Integer, nullable=False),
    sa.Column("until", sa.Integer, nullable=False),  # the relay clears it then: the line goes
    sa.UniqueConstraint("relay_id", "user_id", name="uq_held_messages_relay_user"),
    sa.Index("ix_held_messages_user", "user_id", "date"),
)

# Migration a0011: a user's own download limit per attachment, lower than the box's (none: the box's).
download_limits = sa.Table(
    "download_limits", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("bytes", sa.Integer, nullable=False),
)

# Migration a0014 (appliance.store.reply_parents): the text of a received or sent message a user
# deleted for good, kept until kept_until so that a reply the relay packed against it still reads.
reply_parents = sa.Table(
    "reply_parents", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message_id", sa.String(300), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("kept_until", sa.Integer, nullable=False, index=True),
)

# Migration a0016 (appliance.store.history): the text of the pouches the box took, that the relay
# packs the next pouches against (pouch.container.history); newest: the last pouch name, as the
# relay orders them.
history_pieces = sa.Table(
    "history_pieces", metadata,
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("piece_id", sa.String(16), nullable=False, unique=True),  # hex
    sa.Column("pouch_name", sa.String(200), nullable=False, index=True),
    sa.Column("piece", sa.LargeBinary, nullable=False),
    sa.Column("taken_at", sa.Integer, nullable=False),
)
