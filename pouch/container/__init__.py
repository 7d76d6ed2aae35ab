"""The pouch container, format v1: one file carrying a batch of records between a box and its relay.

Layout::

    MPCH | version u8 | flags u8 | header length u16 | header CRC-32 u32     (12 bytes)
    header map (msgpack): id, sender, recipient, created, codec, dict_id,
                          [history,] count, raw_size, stream_size
    one zstd frame (checksummed): records, each a msgpack bin wrapping a msgpack array

Record kinds: ``message`` (MessageRecord), ``blob`` (attachment bytes keyed by
sha256, in chunks of at most 1 MiB, each distinct blob once per pouch),
``status`` (StatusRecord), and for external accounts ``account``, ``account
status`` and ``flag`` (pouch.records), each declared once in ``wire.KINDS``.
A reader skips kinds it does not know and says so.
See ``wire`` for the field layout and ``codec`` for the zstd settings.

Writing::

    with open(path, "wb") as out, PouchWriter(out, sender="box-1", recipient="relay") as pouch:
        pouch.add(record)                   # any record: MessageRecord, StatusRecord, ...
        pouch.add(BlobRecord(sha256, data)) # data: bytes or a binary file; False if already in

Reading::

    reader = PouchReader(open(path, "rb"), max_raw_bytes=..., errors="raise" | "skip")
    reader.header                           # PouchHeader: pouch_id, sender, ..., count, raw_size
    for record in reader: ...               # MessageRecord | BlobRecord | StatusRecord | ...
    reader.skipped                          # SkippedRecord(index, kind, reason) list
    route(reader, {"message": ..., "blob": ...}, "the box")  # each kind to its handler

Every problem raises a subclass of PouchError naming what and where.  With
``errors="skip"`` a record that does not decode is listed in ``skipped`` and
reading goes on; damage to the compressed stream itself always raises, since
nothing after it can be trusted.  ``blob_chunks=True`` yields BlobChunk
pieces instead of whole blobs, for memory that stays flat with huge blobs.
"""

from .errors import (BadMagic, CorruptPouch, HistoryMissing, MalformedHeader, MalformedRecord, PouchError,
                     PouchTooLarge, TruncatedPouch, UnsupportedVersion)
from .header import PouchHeader, read as read_header
from .reader import DEFAULT_MAX_RAW_BYTES, PouchReader, SkippedRecord
from .routing import route
from .wire import BlobChunk
from .writer import CHUNK_SIZE, PouchWriter

__all__ = [
    "BadMagic", "BlobChunk", "CHUNK_SIZE", "CorruptPouch", "DEFAULT_MAX_RAW_BYTES", "HistoryMissing", "MalformedHeader",
    "MalformedRecord", "PouchError", "PouchHeader", "PouchReader", "PouchTooLarge", "PouchWriter",
    "SkippedRecord", "TruncatedPouch", "UnsupportedVersion", "read_header", "route",
]
