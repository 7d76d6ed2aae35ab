"""A message as kept in the database, ready to pack or send: its record and the blobs it needs.

The record is kept in the pouch's own wire layout (pouch.container.wire), so
it reads back exactly as the box wrote it.
"""

import msgpack

from pouch.container import wire


def pack(record, blobs):
    """Only the blobs the record names: its attachments, and the originals of photos the relay
    shrank (kept for a box that asks, never packed for one unasked)."""
    wanted = {digest for attachment in record.attachments
              for digest in (attachment.sha256, attachment.original_sha256) if digest}
    kept = {digest: data for digest, data in blobs.items() if digest in wanted}
    return msgpack.packb([wire.encode(record), kept], use_bin_type=True)


def unpack(payload):
    """(MessageRecord, {sha256: bytes})."""
    fields, blobs = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    return wire.decode(fields), blobs
