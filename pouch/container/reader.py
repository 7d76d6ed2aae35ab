"""PouchReader: a pouch file in, records out one at a time, nothing trusted.

Memory stays bounded whatever the file claims: zstd's window is capped, the
decompressed stream is read in small pieces and counted against
``max_raw_bytes``, and msgpack never buffers more than one record of at most
``max_record_bytes``.
"""

import hashlib
import io
import logging
from dataclasses import dataclass

import msgpack
import zstandard

from pouch import limits
from pouch.records import BlobRecord

from . import codec, header as pouch_header, history as pouch_history, wire
from .errors import CorruptPouch, HistoryMissing, MalformedRecord, PouchError, PouchTooLarge, TruncatedPouch

log = logging.getLogger(__name__)

DEFAULT_MAX_RAW_BYTES = 1 << 30
DEFAULT_MAX_RECORD_BYTES = 32 << 20  # a message with a huge HTML body; blob chunks are 1 MiB
DEFAULT_MAX_BLOB_BYTES = 256 << 20  # a blob assembled in memory (blob_chunks=False)
MAX_LIST_LENGTH = 1 << 16  # recipients, references, attachments of one message
MAX_MAP_LENGTH = 1 << 12
_READ_SIZE = 1 << 16
_PEEK_SIZE = 1 << 12
ERRORS = ("raise", "skip")


@dataclass
class SkippedRecord:
    index: int
    kind: str
    reason: str
    record_id: str | None = None  # a message's id, when it could be read: its sender can be told


class PouchReader:
    """Read a pouch from a binary file; iterate for records.

    Yields the records of wire.KINDS, a blob as a BlobRecord (or, with
    ``blob_chunks=True``, as BlobChunk pieces, so even a huge blob never sits in
    memory whole).  ``errors="skip"`` steps over records that do not decode
    and lists them in ``skipped``; damage to the stream itself always raises.
    Records of a kind this reader does not know are skipped in both modes.

    ``history(ids)``: the pieces a pouch packed against them names (bytes, in the order
    given), or None when the caller lacks one (HistoryMissing).  ``keep_piece``: once read
    to its end, ``piece`` is the pouch's own piece (pouch.container.history).
    """

    def __init__(self, fileobj, *, max_raw_bytes=DEFAULT_MAX_RAW_BYTES,
                 max_record_bytes=DEFAULT_MAX_RECORD_BYTES, max_blob_bytes=DEFAULT_MAX_BLOB_BYTES,
                 errors="raise", blob_chunks=False, dictionaries=(), history=None, keep_piece=False):
        if errors not in ERRORS:
            raise ValueError(f"errors should be one of {ERRORS}, not {errors!r}")
        self._file = fileobj
        self._start = fileobj.tell() if fileobj.seekable() else 0
        self.header = pouch_header.read(fileobj)
        self._max_raw = max_raw_bytes
        self._max_record = max_record_bytes
        self._max_blob = max_blob_bytes
        self._errors = errors
        self._blob_chunks = blob_chunks
        self._dictionary = self._history(history) if self.header.history else self._find_dictionary(dictionaries)
        self._keep_piece = keep_piece
        self.piece = None
        self.skipped = []
        self._check_declared_sizes()

    def __iter__(self):
        self.skipped = []
        assembler = _BlobAssembler(self._max_blob, streaming=self._blob_chunks)
        for index, fields in enumerate(self._frames()):
            record = self._decode(index, fields)
            if isinstance(record, wire.BlobChunk):
                record = self._guarded(index, "blob", assembler.add, record)
            if record is not None:
                yield record
        if assembler.pending:
            self._guarded(self.header.count, "blob", assembler.fail_pending)

    # --- the stream: bytes -> framed records ---

    def _frames(self):
        if self._file.seekable():  # so that a reader can be iterated again
            self._file.seek(self._stream_start)
        source = _BoundedSource(self._file, self.header.stream_size)
        stream = codec.decompressor(self._dictionary).stream_reader(
            source, read_size=_READ_SIZE, read_across_frames=False)
        # Between records only bin frames may stand: any other type is damage.
        unpacker = msgpack.Unpacker(max_buffer_size=self._max_record + _READ_SIZE + 16,
                                    max_bin_len=self._max_record, max_str_len=0, max_array_len=0,
                                    max_map_len=0, max_ext_len=0)
        cap = min(self._max_raw, self.header.raw_size)
        raw_size = count = 0
        frames = [] if self._keep_piece else None
        for piece in self._pieces(stream, source):
            raw_size += len(piece)
            if raw_size > cap:
                raise PouchTooLarge(f"pouch expands to more than {cap} bytes once decompressed "
                                    "(the cap: max_raw_bytes, or the size its header declares)")
            self._feed(unpacker, piece, count)
            while (framed := self._next_frame(unpacker, count)) is not None:
                if count == self.header.count:  # said at once: a caller's memory may go by the count
                    raise CorruptPouch(f"stream holds more records than the {count} its header declares")
                fields = self._unframe(framed, count)
                if frames is not None and _in_piece(fields):
                    frames.append(msgpack.packb(framed, use_bin_type=True))
                yield fields
                count += 1
        self._check_end(source, unpacker, raw_size, count)
        if frames is not None:
            self.piece = pouch_history.piece_of(frames)

    def _pieces(self, stream, source):
        while True:
            try:
                piece = stream.read(_READ_SIZE)
            except zstandard.ZstdError as error:
                raise CorruptPouch(f"compressed stream damaged near file byte "
                                   f"{self._stream_start + source.consumed}: {error}") from None
            if not piece:
                return
            yield piece

    def _feed(self, unpacker, piece, count):
        try:
            unpacker.feed(piece)
        except msgpack.BufferFull:
            raise CorruptPouch(f"record {count} (raw offset {unpacker.tell()}) is larger than "
                               f"the {self._max_record}-byte record size cap") from None

    def _next_frame(self, unpacker, count):
        try:
            return next(unpacker)
        except StopIteration:
            return None
        except (ValueError, msgpack.UnpackException) as error:  # framing lost: nothing after is safe
            raise CorruptPouch(f"record {count} (raw offset {unpacker.tell()}) is damaged or over the "
                               f"record size cap: {error or type(error).__name__}") from None

    def _unframe(self, framed, index):
        if not isinstance(framed, bytes):
            raise CorruptPouch(f"record {index}: stream framing damaged (found {type(framed).__name__})")
        try:  # msgpack allocates a list as long as its header says: keep that sane
            return msgpack.unpackb(framed, raw=False, strict_map_key=True, max_array_len=MAX_LIST_LENGTH,
                                   max_map_len=MAX_MAP_LENGTH)
        except (ValueError, msgpack.UnpackException) as error:
            reason = f"does not decode: {error or type(error).__name__}"
            if "exceeds max_array_len" in reason:
                reason += f" (a record's lists, recipients among them, hold at most {MAX_LIST_LENGTH} items)"
            return _Undecodable(reason, *_peek(framed))

    # --- one record ---

    def _decode(self, index, fields):
        if isinstance(fields, _Undecodable):
            return self._guarded(index, fields.kind, fields.fail, record_id=fields.record_id)
        kind = wire.kind_name(fields)
        try:
            return wire.decode(fields)
        except wire.UnknownKind as error:
            self._skip(index, kind, str(error))
        except wire.RecordError as error:
            return self._guarded(index, kind, _raise, error, record_id=_message_id(fields))
        return None

    def _guarded(self, index, kind, function, *args, record_id=None):
        """function(*args); in skip mode a RecordError becomes a skipped record."""
        try:
            return function(*args)
        except wire.RecordError as error:
            if self._errors == "raise":
                raise MalformedRecord(index, kind, str(error)) from None
            self._skip(index, kind, str(error), record_id)
            return None

    def _skip(self, index, kind, reason, record_id=None):
        log.warning("pouch %s: skipped record %d (%s): %s", self.header.pouch_id, index, kind, reason)
        self.skipped.append(SkippedRecord(index, kind, reason, record_id))

    # --- checks against the header ---

    @property
    def _stream_start(self):
        return self._start + self.header.size

    def _check_declared_sizes(self):
        if self.header.raw_size > self._max_raw:
            raise PouchTooLarge(f"pouch declares {self.header.raw_size} bytes once decompressed; "
                                f"the cap (max_raw_bytes) is {self._max_raw}")
        if not self._file.seekable():
            return
        here = self._file.tell()
        end = self._file.seek(0, 2)
        self._file.seek(here)
        expected = here + self.header.stream_size
        if end < expected:
            raise TruncatedPouch(f"file ends at byte {end}; its header declares {expected}")
        if end > expected:
            raise CorruptPouch(f"{end - expected} unexpected bytes after the pouch's end (byte {expected})")

    def _check_end(self, source, unpacker, raw_size, count):
        where = self._stream_start + source.consumed
        if source.short:
            raise TruncatedPouch(f"file ends at byte {where}; its header declares "
                                 f"{self._stream_start + self.header.stream_size}")
        if source.consumed < self.header.stream_size or raw_size < self.header.raw_size:
            raise TruncatedPouch(f"compressed stream ends early, near file byte {where}")
        if unpacker.tell() != raw_size:
            raise TruncatedPouch(f"stream ends inside record {count} (raw offset {unpacker.tell()})")
        if count != self.header.count:
            raise CorruptPouch(f"stream holds {count} records; its header declares {self.header.count}")
        if self._file.read(1):
            raise CorruptPouch(f"unexpected bytes after the pouch's end (byte {where})")

    def _history(self, history):
        ids = self.header.history
        pieces = history(list(ids)) if history else None
        if pieces is None or len(pieces) != len(ids) or any(
                pouch_history.piece_id(piece) != wanted for piece, wanted in zip(pieces, ids)):
            raise HistoryMissing(f"pouch was packed against {len(ids)} earlier pouches' text "
                                 f"({', '.join(i.hex() for i in ids[:3])}{'…' if len(ids) > 3 else ''}), "
                                 "which this reader does not hold")
        return pouch_history.dictionary(pieces)

    def _find_dictionary(self, dictionaries):
        if not self.header.dict_id:
            return None
        known = {**codec.shipped_dictionaries(), **{codec.dictionary_id(d): d for d in dictionaries}}
        if self.header.dict_id not in known:
            raise PouchError(f"pouch was compressed with dictionary {self.header.dict_id}, "
                             "which this installation does not have (upgrade mailpouch?)")
        return known[self.header.dict_id]


def _raise(error):
    raise error


def _in_piece(fields):
    """Whether a record is part of the piece, as the writer decided (pouch.container.history)."""
    if isinstance(fields, _Undecodable):
        return fields.kind != "blob"
    if wire.kind_name(fields) != "blob":
        return True
    size = fields[2] if len(fields) > 2 else None  # [kind, sha256, size, offset, data]
    return isinstance(size, int) and not isinstance(size, bool) and pouch_history.in_piece(size)


def _message_id(fields):
    """The id of a message record's fields, if it is text the sender could be answered by."""
    if wire.kind_name(fields) == "message" and len(fields) > 1 and isinstance(fields[1], str) \
            and limits.storable(fields[1]):
        return fields[1]
    return None


def _peek(framed):
    """(kind name, message id or None) of a record too big to decode, read without building it."""
    unpacker = msgpack.Unpacker(io.BytesIO(framed), read_size=_PEEK_SIZE, raw=False,  # never a copy of it all
                                max_buffer_size=max(len(framed), _PEEK_SIZE), max_array_len=MAX_LIST_LENGTH,
                                max_map_len=MAX_MAP_LENGTH)
    try:
        if unpacker.read_array_header() < 2:
            return "unknown kind", None
        head = [unpacker.unpack(), unpacker.unpack()]  # kind, and a message's id
    except (ValueError, msgpack.UnpackException):
        return "unknown kind", None
    return wire.kind_name(head), _message_id(head)


class _Undecodable:
    """A frame whose bytes are not msgpack: a record to skip, or to report."""

    def __init__(self, reason, kind="unknown kind", record_id=None):
        self.reason = reason
        self.kind = kind
        self.record_id = record_id

    def fail(self):
        raise wire.RecordError(self.reason)


class _BoundedSource:
    """The file's stream bytes and not one more; remembers whether the file ran short."""

    def __init__(self, fileobj, size):
        self._file = fileobj
        self._remaining = size
        self.consumed = 0
        self.short = False

    def read(self, size=-1):
        size = self._remaining if size < 0 else min(size, self._remaining)
        data = self._file.read(size) if size else b""
        self.short = self.short or len(data) < size
        self._remaining -= len(data)
        self.consumed += len(data)
        return data


class _BlobAssembler:
    """Checks a blob's chunks (order, size, sha256); puts them back together unless streaming."""

    def __init__(self, max_size, streaming):
        self._max_size = max_size
        self._streaming = streaming  # hand each chunk on instead of keeping it
        self._reset()

    @property
    def pending(self):
        return self._sha256 is not None

    def add(self, chunk):
        interrupted = self.pending and chunk.offset == 0
        if chunk.offset == 0:
            self._start(chunk)
        elif chunk.sha256 != self._sha256 or chunk.offset != self._received:
            self._reset()
            raise wire.RecordError(f"blob chunk at offset {chunk.offset} is out of order")
        self._digest.update(chunk.data)
        self._received += len(chunk.data)
        if not self._streaming:
            self._parts.append(chunk.data)
        if interrupted:
            raise wire.RecordError("a blob's chunks stop before its end")
        if chunk.last:
            return self._finish(chunk)
        return chunk if self._streaming else None

    def _finish(self, chunk):
        data, sha256, good = b"".join(self._parts), self._sha256, self._digest.digest() == self._sha256
        self._reset()
        if not good:
            raise wire.RecordError(f"blob {sha256.hex()[:16]}…: data does not match its sha256")
        return chunk if self._streaming else BlobRecord(sha256, data)

    def _start(self, chunk):
        self._reset()
        if chunk.size > self._max_size and not self._streaming:
            raise wire.RecordError(f"blob of {chunk.size} bytes is over the {self._max_size}-byte cap "
                                   "(read with blob_chunks=True)")
        self._sha256 = chunk.sha256
        self._digest = hashlib.sha256()

    def _reset(self):
        self._sha256, self._parts, self._digest, self._received = None, [], None, 0

    def fail_pending(self):
        self._reset()
        raise wire.RecordError("the pouch ends inside a blob")
