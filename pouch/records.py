"""The records a pouch carries, as plain Python objects.

This module is the contract between the MIME conversion (pouch.mime), the
container (pouch.container) and both sides.  It says *what* a record holds;
how a record is laid out on the wire, and which side sends it, is the
container's business (pouch.container.wire.KINDS).

Addresses are ``(name, email)`` pairs, name possibly empty.  Dates are Unix
seconds (UTC); a message's date may be negative (mail from before 1970).  Digests are raw 32-byte sha256 values.
"""

from dataclasses import dataclass, field

Address = tuple[str, str]

BODY_HTML = "html"
BODY_TEXT = "text"

STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_QUEUED = "queued"  # accepted by the relay, not yet handed to the internet


@dataclass
class Attachment:
    """One attachment of a message; its bytes travel as a BlobRecord."""

    name: str
    type: str  # MIME type, e.g. "application/pdf"
    size: int
    sha256: bytes
    cid: str | None = None  # Content-ID without <>, for inline images
    inline: bool = False
    held: bool = False  # its bytes stay on the relay until a user asks (RequestRecord): a placeholder
    preview: bytes = b""  # a held or shrunk image: a preview of a few KB (WebP or JPEG)
    original_size: int = 0  # the relay shrank this image: the original's size (0: not shrunk)
    original_sha256: bytes = b""  # and its digest, which a RequestRecord asks for


# MessageRecord.extra[BY_REFERENCE] is True when the record names attachments whose bytes its pouch
# leaves out because the reader holds them (a box's forward of mail the relay keeps for it).
BY_REFERENCE = "refs"


@dataclass
class MessageRecord:
    """What a mail client needs of a message: no raw MIME, no trace headers."""

    id: str  # unique on the side that wrote the pouch (box: its message id; relay: its inbound id)
    from_: list[Address]
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    subject: str = ""
    date: int = 0  # Unix seconds, signed; 0 when the message has no usable date
    message_id: str = ""  # RFC 5322 Message-ID without <>
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    body: str = ""
    body_type: str = BODY_TEXT  # BODY_HTML when the message had HTML
    attachments: list[Attachment] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)  # incoming: local addresses on the box
    extra: dict = field(default_factory=dict)  # room to grow; readers ignore keys they do not know
    automatic: bool = False  # a bounce or auto-reply (multipart/report, Auto-Submitted, MAILER-DAEMON)
    parent: str = ""  # Message-ID of a message the reader holds, whose text compresses this one's body
    packed_body: bytes = b""  # with ``parent``: the body, zstd-compressed with that text as prefix


@dataclass
class BlobRecord:
    """Attachment bytes, stored once per pouch however many messages carry them."""

    sha256: bytes
    data: bytes  # read: the bytes; written (PouchWriter.add): bytes, or a binary file to copy from


@dataclass
class StatusRecord:
    """The fate of a message the box sent earlier."""

    message_id: str  # MessageRecord.id as the box wrote it
    state: str  # STATUS_SENT, STATUS_FAILED or STATUS_QUEUED
    at: int  # Unix seconds
    reason: str = ""


ACCOUNT_ACTIVE = "active"
ACCOUNT_PAUSED = "paused"
ACCOUNT_REMOVED = "removed"


@dataclass
class AccountRecord:
    """Box -> relay: an external mail account a user of the box added or changed."""

    id: str  # the box's id for the account, stable and unique on that box
    owner: str  # the box user's address, to whom the account's mail is delivered
    address: str  # the external address
    state: str  # ACCOUNT_ACTIVE, ACCOUNT_PAUSED or ACCOUNT_REMOVED
    sealed: bytes = b""  # its settings sealed to the relay's key (pouch.sealing); empty: unchanged


@dataclass
class AccountStatusRecord:
    """Relay -> box: how syncing an external account goes."""

    id: str  # AccountRecord.id
    state: str  # "syncing", "paused", "error" or "removed"
    at: int  # Unix seconds
    error: str = ""  # for people: what went wrong and what to do
    synced_at: int = 0  # the last good sync with the account's server


@dataclass
class FlagRecord:
    """Box -> relay: read state set on the box, for the account's server."""

    message_id: str  # MessageRecord.id as the relay wrote it
    seen: bool
    at: int


REQUEST_HELD = "held"  # bring a message held as spam
REQUEST_ATTACHMENT = "attachment"  # the bytes of a held attachment (Attachment.held)
REQUEST_ORIGINAL = "original"  # the original of an image the relay shrank (Attachment.original_sha256)


@dataclass
class HeldRecord:
    """Relay -> box: one line for a message held on the relay as spam (it can be asked for)."""

    id: str  # the relay's record id of the message, as a MessageRecord of it would carry
    from_: list[Address]
    subject: str = ""
    size: int = 0  # bytes of the message on the relay
    score: float = 0.0  # its spam score (SpamAssassin's scale)
    date: int = 0  # Unix seconds, signed
    recipients: list[str] = field(default_factory=list)  # local addresses on the box
    until: int = 0  # Unix seconds: the relay clears it then


@dataclass
class RequestRecord:
    """Box -> relay: a user asks for what the relay holds back (REQUEST_*)."""

    what: str  # REQUEST_HELD, REQUEST_ATTACHMENT or REQUEST_ORIGINAL
    message_id: str  # the relay's record id of the message (MessageRecord.id / HeldRecord.id)
    sha256: bytes = b""  # the attachment or original asked for; empty for a held message
    at: int = 0
    user: str = ""  # the box user who asked, for the relay's log


@dataclass
class RefusalRecord:
    """Relay -> box: a request of the box's (RequestRecord) that the relay will not serve, and why."""

    message_id: str  # as the RequestRecord named it
    what: str
    sha256: bytes = b""
    reason: str = ""  # for the box's users: why, and whether asking again can help
    at: int = 0


@dataclass
class VerdictRecord:
    """Box -> relay: a user says a message is spam or not; trains the box's Bayes filter."""

    message_id: str  # the relay's record id of the message
    spam: bool
    at: int
    user: str = ""


@dataclass
class BoxSettingsRecord:
    """Box -> relay: what the box's admin and users chose for what comes down."""

    spam_threshold: float  # held as spam at or above this score
    attachment_limit: int  # bytes: a bigger attachment comes as a placeholder (0: every one does)
    user_limits: dict = field(default_factory=dict)  # {address: bytes}, users who chose a lower limit
    at: int = 0
