"""A pouch packed against the text of pouches its reader took before.

A box's mail repeats itself from one sync to the next: the same lists' headers and
footers, the same correspondents' signatures, threads quoting yesterday's
messages.  The relay may therefore pack a pouch with, as zstd raw-content
dictionary, the shipped dictionary followed by *pieces*: the text of pouches the
box acknowledged.  A piece is every record of a pouch but the chunks of blobs over
``PIECE_BLOB_BYTES`` (photos and documents repeat nothing; a delivery report, a
patch or a signature's logo may), each exactly as the decompressed stream framed
it, in stream order (its last ``MAX_PIECE_BYTES`` when longer): the writer and
the reader of a pouch make the same bytes without agreeing on anything else.  A piece is named by the first 8
bytes of its sha256; the header of a pouch packed so lists its pieces, oldest
first (``history``), and a reader lacking one refuses the pouch with
HistoryMissing before reading a byte of its stream.

Which pieces a box holds, and for how long, is the sync's business
(relay.boxsync.history, appliance.store.history).  Measured (bench/bandwidth.py,
batches of 50 mixed mail, the box holding the syncs before): see docs/decisions.md.
"""

import hashlib

import zstandard

from . import codec
from .header import MAX_PIECES, PIECE_ID_BYTES

MAX_PIECE_BYTES = 1 << 20  # of one pouch's text: its tail, when longer
MAX_HISTORY_BYTES = 4 << 20  # of pieces one pouch is packed against (the newest that fit)
PIECE_BLOB_BYTES = 16 << 10  # a blob this small is part of its pouch's piece


def piece_id(piece):
    return hashlib.sha256(piece).digest()[:PIECE_ID_BYTES]


def in_piece(blob_size):
    """Whether the chunks of a blob of ``blob_size`` bytes are part of the piece."""
    return blob_size <= PIECE_BLOB_BYTES


def piece_of(frames):
    """The piece of a pouch whose non-blob records were framed as ``frames``."""
    return b"".join(frames)[-MAX_PIECE_BYTES:]


def dictionary(pieces):
    """The zstd dictionary of a pouch packed against ``pieces`` (bytes, oldest first)."""
    shipped = codec.shipped_dictionary()
    prefix = shipped.as_bytes() if shipped is not None else b""
    return zstandard.ZstdCompressionDict(prefix + b"".join(pieces), dict_type=zstandard.DICT_TYPE_RAWCONTENT)


class History:
    """The pieces (bytes, oldest first) one or more pouches are packed against.  Their dictionary
    is digested once per compression setting: half a second at level 19 for 4 MiB, which a
    backlog of pouches packed in one sync would otherwise pay for each."""

    def __init__(self, pieces=()):
        self.pieces = list(pieces)
        self.ids = [piece_id(piece) for piece in self.pieces]
        self._digested = {}

    def __bool__(self):
        return bool(self.pieces)

    def compressor(self, level, window_log):
        key = (level, window_log)
        if key not in self._digested:
            digested = dictionary(self.pieces)
            digested.precompute_compress(compression_params=codec.parameters(level, window_log))
            self._digested[key] = digested
        return codec.compressor(level, window_log, self._digested[key], write_dict_id=False)


def newest_that_fit(newest_first, budget=None):
    """Of the pieces ``newest_first`` gives (newest first: taken only as far as needed), the
    newest whose sizes add up to at most ``budget`` (and at most MAX_PIECES), oldest first."""
    budget = MAX_HISTORY_BYTES if budget is None else budget
    chosen, total = [], 0
    for piece in newest_first:
        if len(chosen) == MAX_PIECES or total + len(piece) > budget:
            break
        chosen.append(piece)
        total += len(piece)
    return chosen[::-1]
