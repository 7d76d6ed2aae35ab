"""PouchWriter: records in, one pouch file out, in constant memory."""

import hashlib
import time
import uuid

import msgpack

from pouch.records import BlobRecord

from . import codec, header as pouch_header, history as pouch_history, wire

CHUNK_SIZE = 1 << 20  # blobs travel in pieces of at most this, so neither side holds a whole blob


class PouchWriter:
    """Write a pouch to a seekable binary file; use as a context manager.

    ``dictionary``: ``"shipped"`` (the default: pouch/data's, when present),
    ``None`` for none, or a ``zstandard.ZstdCompressionDict``.  ``history``: pieces of
    pouches the reader took before (bytes, oldest first, or a pouch.container.history.History),
    packed against with the shipped dictionary instead.  ``keep_piece``: ``piece`` is this
    pouch's own piece once it is closed.
    """

    def __init__(self, fileobj, *, sender, recipient, pouch_id=None, created=None,
                 level=codec.DEFAULT_LEVEL, window_log=codec.DEFAULT_WINDOW_LOG,
                 dictionary="shipped", chunk_size=CHUNK_SIZE, history=(), keep_piece=False):
        if not fileobj.seekable():
            raise ValueError("a pouch is written to a seekable file (its header is filled in at the end)")
        if dictionary == "shipped":
            dictionary = codec.shipped_dictionary()
        if not isinstance(history, pouch_history.History):
            history = pouch_history.History(history)
        self._file = fileobj
        self._start = fileobj.tell()
        self._chunk_size = chunk_size
        self._blobs = set()
        self._packer = msgpack.Packer(use_bin_type=True)
        self._compress = (history.compressor(level, window_log) if history
                          else codec.compressor(level, window_log, dictionary)).compressobj()
        self._frames = [] if keep_piece else None
        self.piece = None
        self.header = pouch_header.PouchHeader(
            pouch_id=pouch_id or uuid.uuid4().hex, sender=sender, recipient=recipient,
            created=int(time.time()) if created is None else created, codec=codec.CODEC,
            dict_id=0 if history else codec.dictionary_id(dictionary),
            flags=pouch_header.FLAG_HISTORY if history else pouch_header.FLAG_DICTIONARY if dictionary else 0,
            history=history.ids)
        self._closed = False
        self._broken = None  # why this pouch can no longer be finished, once it cannot
        fileobj.write(pouch_header.pack(self.header))  # totals reserved, filled in by close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()

    def add(self, record):
        """Add one record of any kind (pouch.container.wire.KINDS), checked as the other side
        will check it.  A BlobRecord's data is bytes or a binary file (large attachments stay
        on disk); it goes in once: False if this pouch has that blob already."""
        if isinstance(record, BlobRecord):
            return self._add_blob(record.sha256, record.data)
        self._write(wire.encode(record), check=True)
        return True

    def _add_blob(self, sha256, data):
        if sha256 in self._blobs:
            return False
        if isinstance(data, (bytes, bytearray, memoryview)):
            self._add_blob_bytes(sha256, bytes(data))
        else:
            self._add_blob_file(sha256, data)
        self._blobs.add(sha256)
        return True

    def has_blob(self, sha256):
        return sha256 in self._blobs

    def close(self):
        """Finish the stream and fill in the header's totals; returns the header."""
        if self._closed:
            return self.header
        if self._broken:
            raise ValueError(self._broken)
        self._emit(self._compress.flush())
        if self._frames is not None:
            self.piece = pouch_history.piece_of(self._frames)
        end = self._file.tell()
        self._file.seek(self._start)
        self._file.write(pouch_header.pack(self.header))
        self._file.seek(end)
        self._file.flush()
        self._closed = True
        return self.header

    def _add_blob_bytes(self, sha256, data):
        if hashlib.sha256(data).digest() != sha256:
            raise ValueError(f"blob {sha256.hex()[:16]}…: data does not match the sha256 given")
        for offset in range(0, max(len(data), 1), self._chunk_size):
            piece = data[offset:offset + self._chunk_size]
            self._write(wire.encode(wire.BlobChunk(sha256, len(data), offset, piece)),
                        in_piece=pouch_history.in_piece(len(data)))

    def _add_blob_file(self, sha256, fileobj):
        # Large attachments stay on disk: size first, then hash and copy piece by piece.
        start = fileobj.tell()
        size = fileobj.seek(0, 2) - start
        fileobj.seek(start)
        digest = hashlib.sha256()
        for offset in range(0, max(size, 1), self._chunk_size):
            piece = fileobj.read(min(self._chunk_size, size - offset))
            digest.update(piece)
            self._write(wire.encode(wire.BlobChunk(sha256, size, offset, piece)), in_piece=pouch_history.in_piece(size))
        if digest.digest() != sha256:
            self._broken = (f"blob {sha256.hex()[:16]}…: data does not match the sha256 given; "
                            "this pouch is unusable")
            raise ValueError(self._broken)

    def _write(self, fields, check=False, in_piece=True):
        if self._closed:
            raise ValueError("this pouch is closed")
        if self._broken:
            raise ValueError(self._broken)
        packed = self._packer.pack(fields)
        if check:  # a record the other side would refuse is refused here, where its cause is
            wire.decode(msgpack.unpackb(packed, raw=False))
        # Each record is wrapped in a msgpack bin: a length prefix that lets a reader
        # step over one bad record and keep going.
        framed = self._packer.pack(packed)
        if in_piece and self._frames is not None:
            self._frames.append(framed)
        self.header.count += 1
        self.header.raw_size += len(framed)
        self._emit(self._compress.compress(framed))

    def _emit(self, compressed):
        if compressed:
            self._file.write(compressed)
            self.header.stream_size += len(compressed)
