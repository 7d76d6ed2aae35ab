"""Photos fit for phones: an inbound image bigger than a phone shows is replaced by a copy
shrunk with pouch.images (long side at most PHONE_SIDE, orientation applied, metadata dropped,
WebP or JPEG), while preparing the message, once for every box it goes to.

The original's bytes stay in the prepared payload beside the copy, named by the attachment's
``original_sha256``: a box can ask for them (REQUEST_ORIGINAL) until relay.retention clears the
payload; a pouch carries only the copy.  An image that does not read, already fits, or would
not get smaller travels as it came: whatever its bytes, this never fails a message.
"""

import hashlib

from pouch import images


def shrink_photos(record, blobs, max_side=images.PHONE_SIDE):
    """Point each image attachment of ``record`` over ``max_side`` at its shrunk copy, added to
    ``blobs`` (digest -> bytes), where the original stays."""
    copies = {}  # original digest -> (bytes, type, digest) or None: an image attached twice is shrunk once
    for attachment in record.attachments:
        if not attachment.type.lower().startswith("image/") or attachment.original_sha256:
            continue
        if attachment.sha256 not in copies:
            copies[attachment.sha256] = _shrunk(blobs.get(attachment.sha256), max_side)
        copy = copies[attachment.sha256]
        if copy is not None:
            blobs[copy[2]] = copy[0]
            _point_at(attachment, *copy)


def _shrunk(data, max_side):
    result = images.shrink(data, max_side) if isinstance(data, bytes) else None
    if result is None:
        return None
    small, mime_type = result
    return small, mime_type, hashlib.sha256(small).digest()


def _point_at(attachment, data, mime_type, digest):
    """The attachment now names the copy (its cid, if inline, stays: the body shows it there)."""
    attachment.original_size, attachment.original_sha256 = attachment.size, attachment.sha256
    attachment.name = images.renamed(attachment.name, mime_type)
    attachment.type, attachment.size, attachment.sha256 = mime_type, len(data), digest
