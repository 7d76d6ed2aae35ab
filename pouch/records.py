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
