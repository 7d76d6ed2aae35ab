"""Attachments whose bytes wait on the relay (a0012): placeholders, and shrunk photos' originals.

The relay sends an attachment over the box's automatic download limit as a placeholder (its
name, type, size and, for an image, a preview of a few KB: ``Attachment.held``), and a photo
it shrank as the shrunk image, keeping the original (``Attachment.original_sha256``).  Either
is asked for once for the whole box (``store.relay_requests``): the request rides the next
upload, and the bytes come down as a BlobRecord in a later pouch, where
``incoming.store_awaited_blobs`` keeps them like any attachment's bytes that follow their
message.  From then on the attachment is an ordinary one (or its original is offered).
"""

from dataclasses import dataclass

import sqlalchemy as sa

from pouch import images, limits
from pouch.records import REQUEST_ATTACHMENT, REQUEST_ORIGINAL, RequestRecord

from appliance.store import relay_requests
from appliance.store.other_address_flags import ORIGIN_PREFIX
from appliance.store.tables import attachments, messages

HERE = "downloaded"  # the bytes are on the box
HELD = "on_relay"  # they wait on the relay until someone asks
ASKED = "requested"  # asked for: they come with the next sync
COMING = "coming"  # big mail: the relay sends them after the message, unasked
# What an image's first bytes say it is: its MIME type and the extension its file gets.
IMAGE_MAGIC = ((b"\xff\xd8\xff", "image/jpeg", ".jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
               (b"GIF8", "image/gif", ".gif"), (b"RIFF", "image/webp", ".webp"))
PREVIEW_TYPES = ("image/jpeg", "image/webp")  # what pouch.images makes


@dataclass(frozen=True)
class Shown:
    """What the box has of one attachment: its ``state``, and ``original`` (a state) for a photo
    the relay shrank, None for any other; for one still on the relay, why the relay refused
    the last request for it, if it did."""

    state: str
    original: str | None = None
    refusal: str | None = None
    original_refusal: str | None = None


def keep(conn, message_id, attachment):
    """Note what an incoming ``pouch.records.Attachment`` says beside its bytes: held on the
    relay (with its preview), or a shrunk photo whose original the relay keeps."""
    original = attachment.original_sha256
    has_original = len(original) == 32 and 0 < attachment.original_size <= limits.MAX_MESSAGE_BYTES
    if not (attachment.held or has_original):
        return
    conn.execute(attachments.update().where(
        attachments.c.message_id == message_id, attachments.c.sha256 == attachment.sha256.hex()).values(
        held=attachment.held, preview=_checked_preview(attachment.preview),
        original_size=attachment.original_size if has_original else 0,
        original_sha256=original.hex() if has_original else None))


def image_type(head):
    """(MIME type, extension) of the image whose first bytes are ``head``, or None."""
    for magic, kind, extension in IMAGE_MAGIC:
        if head.startswith(magic) and (kind != "image/webp" or head[8:12] == b"WEBP"):
            return kind, extension
    return None


def preview_type(data):
    """The MIME type of a preview the box keeps (a JPEG or WebP image), else None."""
    found = image_type(data)
    return found[0] if found and found[0] in PREVIEW_TYPES else None


def _checked_preview(data):
    """A preview of a few KB that is a JPEG or WebP image; anything else is not kept."""
    return data if len(data) <= images.PREVIEW_BYTES and preview_type(data) else None


def shown(store, conn, rows):
    """{attachment id: Shown} for attachment rows (``mailbox.attachments_of``'s)."""
    origins = _relay_ids(conn, {row["message_id"] for row in rows})
    return {row["id"]: _shown(store, conn, row, origins.get(row["message_id"])) for row in rows}


def _shown(store, conn, row, relay_id):
    state = _state(store, conn, row["held"], row["sha256"], REQUEST_ATTACHMENT, relay_id)
    refusal = _refusal(conn, state, REQUEST_ATTACHMENT, relay_id, row["sha256"])
    original = original_refusal = None
    if row["original_sha256"]:
        original = _state(store, conn, True, row["original_sha256"], REQUEST_ORIGINAL, relay_id)
        original_refusal = _refusal(conn, original, REQUEST_ORIGINAL, relay_id, row["original_sha256"])
    return Shown(state, original, refusal, original_refusal)


def _refusal(conn, state, what, relay_id, sha_hex):
    if state != HELD or relay_id is None:
        return None
    return relay_requests.refusal(conn, what, relay_id, bytes.fromhex(sha_hex))


def _state(store, conn, held, sha_hex, what, relay_id):
    if store.attachment_files.has(sha_hex):
        return HERE
    if not held:
        return COMING
    asked = relay_id is not None and relay_requests.is_requested(conn, what, relay_id, bytes.fromhex(sha_hex))
    return ASKED if asked else HELD


def ask(store, conn, user, row, original=False):
    """Ask the relay for the bytes of attachment ``row`` (or of its original): the request
    rides the next upload, once for the whole box however many users ask.  Returns the state
    the attachment (or original) is in now; None when the relay holds nothing of it."""
    what, sha_hex = (REQUEST_ORIGINAL, row["original_sha256"]) if original else (REQUEST_ATTACHMENT, row["sha256"])
    relay_id = _relay_ids(conn, {row["message_id"]}).get(row["message_id"])
    if not sha_hex or relay_id is None:
        return None
    state = _state(store, conn, original or row["held"], sha_hex, what, relay_id)
    if state == HELD:
        relay_requests.queue(conn, RequestRecord(what, relay_id, bytes.fromhex(sha_hex), user=user["email"]))
        return ASKED
    return state


def awaited(conn, digests_hex):
    """The digests among ``digests_hex`` that attachments of the box wait for (their own bytes,
    or a shrunk photo's original)."""
    if not digests_hex:
        return set()
    digests = list(digests_hex)
    own = conn.execute(sa.select(attachments.c.sha256).where(attachments.c.sha256.in_(digests)))
    originals = conn.execute(sa.select(attachments.c.original_sha256).where(
        attachments.c.original_sha256.in_(digests)))
    return set(own.scalars()) | set(originals.scalars())


def answered(conn, digests_hex):
    """These bytes came: the requests for them are done."""
    digests = list(digests_hex)
    for what, column in ((REQUEST_ATTACHMENT, attachments.c.sha256), (REQUEST_ORIGINAL, attachments.c.original_sha256)):
        found = conn.execute(sa.select(column, messages.c.origin_id)
                             .join(messages, messages.c.id == attachments.c.message_id)
                             .where(column.in_(digests), messages.c.origin_id.like(ORIGIN_PREFIX + "%")))
        for sha_hex, origin in found.all():
            relay_requests.answered(conn, what, origin[len(ORIGIN_PREFIX):], bytes.fromhex(sha_hex))


def _relay_ids(conn, message_ids):
    """{box message id: the relay's record id} for those that came from the relay."""
    found = conn.execute(sa.select(messages.c.id, messages.c.origin_id).where(
        messages.c.id.in_(list(message_ids)), messages.c.origin_id.like(ORIGIN_PREFIX + "%")))
    return {message_id: origin[len(ORIGIN_PREFIX):] for message_id, origin in found}
