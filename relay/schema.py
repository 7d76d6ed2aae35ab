"""The relay's tables (SQLAlchemy Core).  migrations/relay creates them.

Nothing lives only in memory: inbound mail (raw MIME kept until
relay.retention clears it), each box's delivery queue, the pouches offered and
taken, outbound sends and the status records owed to boxes are all rows, so
any relay process can pick work up.
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
    # What the box's admin and users chose (BoxSettingsRecord, clamped by relay.spam.boxsettings);
    # NULL until it said: spam is held at or above spam_threshold ([spam] threshold until then);
    # an attachment over attachment_limit bytes comes as a placeholder (relay.boxsync.placeholders),
    # or over the lower limit of its recipient in user_limits (JSON {address: bytes}).
    sa.Column("spam_threshold", sa.Float),
    sa.Column("attachment_limit", sa.BigInteger),
    sa.Column("user_limits", sa.Text),
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
    # When relay.retention dropped raw and prepared, keep_days after the last box's ack.
    sa.Column("cleared_at", sa.Integer),
    # Set aside (relay.quarantine) when converting it raised: not tried again until retried.
    sa.Column("quarantined_at", sa.Integer),
    sa.Column("quarantine_reason", sa.Text),
    sa.Column("sendgrid_spam_score", sa.Float),  # SendGrid's spam_score form field, when it sent one
    sa.Index("inbound_unprepared", "prepared_at"),
    sa.Index("inbound_kept", "cleared_at", "received_at"),
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
    # Big mail: the record (text, attachment names and sizes) goes with the small mail, so the
    # recipient sees what is coming; the attachments follow in a later pouch of their own.
    sa.Column("blobs_later", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("blobs_pouch_name", sa.String(200)),
    sa.Column("blobs_delivered_at", sa.Integer),
    # The automatic limit its record was packed under (relay.boxsync.placeholders): a bigger
    # attachment went as a placeholder, its bytes kept for a request.  NULL: none was held.
    sa.Column("packed_limit", sa.BigInteger),
    # Set aside (relay.quarantine) when it could not be converted or packed: never offered
    # until an operator retries it; dropped_at when one marked it done without delivering.
    sa.Column("quarantined_at", sa.Integer),
    sa.Column("quarantine_reason", sa.Text),
    sa.Column("dropped_at", sa.Integer),
    # Spam (relay.spam): spamd's score for this box (its own Bayes); scored_at when it was settled
    # (spamd answered, or the box synced while spamd was off or missing: no score; packed only then);
    # held_at: at or above the box's threshold, not packed (the box got a HeldRecord) until
    # released_at, when the box asked for it; cleared with the inbound mail after retention.
    sa.Column("spam_score", sa.Float),
    sa.Column("scored_at", sa.Integer),
    sa.Column("held_at", sa.Integer),
    sa.Column("released_at", sa.Integer),
    sa.UniqueConstraint("inbound_id", "box_id"),
    sa.Index("deliveries_pending", "box_id", "delivered_at"),
    sa.Index("deliveries_inbound", "inbound_id"),
    sa.Index("deliveries_quarantined", "quarantined_at"),
    sa.Index("deliveries_held", "box_id", "held_at"),
)

# Who got which inbound mail: one row per (box, recipient, key), the key a digest of the
# Message-ID (else of the bytes). The unique key makes a sender's retry, however it races with
# the first copy (one group commit, two relay processes), one delivery. seen_at: the window.
inbound_once = sa.Table(
    "inbound_once", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),  # lower case
    sa.Column("key", sa.String(64), nullable=False),  # hex sha256
    sa.Column("seen_at", sa.Integer, nullable=False),
    sa.UniqueConstraint("box_id", "address", "key"),
    sa.Index("inbound_once_seen", "seen_at"),
)

# Records owed to a box in a later pouch, of the kinds the relay sends (pouch.container.wire):
# the fate of each message it sent ("status"), how syncing one of its external accounts goes
# ("account status"), read state set elsewhere ("flag").  subject: what the record is about (its
# first field); fields: the record as JSON.  relay.owed writes and reads them.
records_owed = sa.Table(
    "records_owed", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(1000), nullable=False),  # refused: ids too long for outbound too
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("pouch_name", sa.String(200)),
    sa.Column("delivered_at", sa.Integer),
    sa.Index("records_owed_pending", "box_id", "delivered_at"),
)

# Held attachments and shrunk photos' originals a box asked for (relay.boxsync.requests), one row
# per (delivery, sha256): a second request serves nothing more.  Packed after the records, offered
# and acked like mail.
requested_blobs = sa.Table(
    "requested_blobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),  # hex
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("what", sa.String(16), nullable=False),  # pouch.records.REQUEST_ATTACHMENT | REQUEST_ORIGINAL
    sa.Column("requested_at", sa.Integer, nullable=False),
    sa.Column("pouch_name", sa.String(200)),
    sa.Column("delivered_at", sa.Integer),
    sa.UniqueConstraint("delivery_id", "sha256"),
    sa.Index("requested_blobs_pending", "box_id", "delivered_at"),
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
    sa.Index("pouches_waiting", "direction", "state", "created_at"),  # uploads to expire
)

# The text of each pouch packed for a box that keeps pieces, and the newest piece it was packed
# against (relay.boxsync.history, pouch.container.history; migration r0014).
pouch_history = sa.Table(
    "pouch_history", metadata,
    sa.Column("pouch_name", sa.String(200), sa.ForeignKey("pouches.name"), primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False, index=True),
    sa.Column("piece_id", sa.String(16)),  # hex; NULL: the pouch carried no text
    sa.Column("piece", sa.LargeBinary),  # zstd-compressed
    sa.Column("against", sa.String(16)),  # hex; NULL: packed against no piece
)

# Which blobs each box holds (relay.boxsync.holdings), one row per (box, blob, pouch): a pouch
# going down that carried the bytes or left them out for the box had them, firm (acked_at)
# once the box acks it; an upload of the box that carried them, firm at once.  That pouch's
# mail is where the relay finds the bytes again while retention keeps them (migration r0013).
box_blobs = sa.Table(
    "box_blobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),  # hex
    sa.Column("pouch_name", sa.String(200), nullable=False),
    sa.Column("carried", sa.Boolean, nullable=False),  # the pouch held the bytes
    sa.Column("acked_at", sa.Integer),
    sa.UniqueConstraint("box_id", "sha256", "pouch_name"),
    sa.Index("box_blobs_pouch", "pouch_name"),
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

# External IMAP accounts of box users (issue #9), synced by relay.accounts.  ``sealed`` is the
# settings exactly as the box sealed them (encrypted at rest); removing an account deletes the row.
accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, sa.ForeignKey("boxes.id"), nullable=False),
    sa.Column("box_account_id", sa.String(64), nullable=False),  # AccountRecord.id
    sa.Column("owner", sa.String(320), nullable=False),  # the box user the mail is for
    sa.Column("address", sa.String(320), nullable=False),  # the external address
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # active | paused: what the box (or operator) wants
    sa.Column("sync_state", sa.String(16), nullable=False),  # new | syncing | error | paused
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("synced_at", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),  # bumped when settings/state change
    sa.Column("claimed_by", sa.String(64)),  # the relay process syncing it, while its lease runs
    sa.Column("lease_until", sa.Float),
    sa.Column("next_attempt_at", sa.Float, nullable=False, server_default="0"),  # backoff survives restarts
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Integer, nullable=False),
    sa.UniqueConstraint("box_id", "box_account_id"),
    sa.Index("accounts_address", "address"),
)

# The folders of an account the relay keeps track of; uidnext is NULL until the initial sync
# of the folder's window is complete (a restart then resumes it).
account_folders = sa.Table(
    "account_folders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),  # inbox | sent
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("uidvalidity", sa.BigInteger),
    sa.Column("uidnext", sa.BigInteger),
    sa.Column("highestmodseq", sa.BigInteger),
    sa.UniqueConstraint("account_id", "role"),
)

# Each message synced from an account, keyed per account by its Message-ID (or a digest):
# re-syncs (a restart, a new UIDVALIDITY) find it here instead of queueing it twice.  The
# (uidvalidity, uid) binding is dropped when the folder's UIDVALIDITY changes and found again.
# seen_wanted is read state the box asked for, kept until it is set on the server.
account_messages = sa.Table(
    "account_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("folder_id", sa.Integer, sa.ForeignKey("account_folders.id"), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("uidvalidity", sa.BigInteger),
    sa.Column("uid", sa.BigInteger),
    sa.Column("inbound_id", sa.Integer, sa.ForeignKey("inbound.id")),  # NULL: too big (before notices)
    sa.Column("seen", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("seen_wanted", sa.Boolean),
    sa.Column("wanted_at", sa.Integer),
    sa.UniqueConstraint("account_id", "key"),
    sa.Index("account_messages_uid", "folder_id", "uidvalidity", "uid"),
    sa.Index("account_messages_inbound", "inbound_id"),
    sa.Index("account_messages_wanted", "account_id", "seen_wanted"),
)

# Copies of mail sent through an account's SMTP whose APPEND to its Sent folder failed: the
# account's session puts them there once its server answers, with backoff, a bounded number of times.
sent_copies = sa.Table(
    "sent_copies", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.Integer, nullable=False),
    sa.Index("sent_copies_due", "account_id", "next_attempt_at"),
)
