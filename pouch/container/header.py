"""The start of a pouch file: a fixed part, then a msgpack header map.

Fixed part (12 bytes, big-endian): magic ``MPCH``, format version (u8), flags
(u8), header map length (u16), CRC-32 of the header map (u32).

The header map's totals (``count``, ``raw_size``, ``stream_size``) are only
known once the stream is written, so they are packed as fixed-width uint64: the
writer reserves them and fills them in place at the end.  The CRC catches a
flipped byte in the header; zstd's own checksum covers the stream.
"""

import struct
import zlib
from dataclasses import asdict, dataclass, field

import msgpack

from .errors import BadMagic, MalformedHeader, TruncatedPouch, UnsupportedVersion

MAGIC = b"MPCH"
VERSION = 1
FLAG_DICTIONARY = 0x01  # the stream was compressed with a dictionary (header dict_id)
FLAG_HISTORY = 0x02  # ... with the pieces of earlier pouches the header names (pouch.container.history)
KNOWN_FLAGS = FLAG_DICTIONARY | FLAG_HISTORY
HISTORY_KEY, MAX_PIECES, PIECE_ID_BYTES = "history", 64, 8
_FIXED = struct.Struct(">4sBBHI")
MAX_HEADER_SIZE = 0xFFFF
_TOTALS = ("count", "raw_size", "stream_size")


@dataclass
class PouchHeader:
    pouch_id: str
    sender: str
    recipient: str
    created: int  # Unix seconds
    codec: str
    dict_id: int = 0  # 0: no dictionary
    count: int = 0  # records in the stream (a blob in chunks counts each chunk)
    raw_size: int = 0  # bytes of the stream once decompressed
    stream_size: int = 0  # bytes of the compressed stream
    version: int = VERSION
    flags: int = 0
    history: list = field(default_factory=list)  # ids of the pieces packed against, oldest first

    @property
    def size(self):
        """Bytes from the start of the file to the start of the stream."""
        return len(pack(self))

    def as_dict(self):
        return asdict(self)


_MAP_KEYS = {"id": "pouch_id", "sender": "sender", "recipient": "recipient",
             "created": "created", "codec": "codec", "dict_id": "dict_id"}


def _uint64(value):
    return b"\xcf" + value.to_bytes(8, "big")  # msgpack's uint64, whatever the value


def pack(header):
    packer = msgpack.Packer(use_bin_type=True)
    body = packer.pack_map_header(len(_MAP_KEYS) + len(_TOTALS) + bool(header.history))
    for key, attribute in _MAP_KEYS.items():
        body += packer.pack(key) + packer.pack(getattr(header, attribute))
    if header.history:  # only where there is one: older readers refuse its flag anyway
        body += packer.pack(HISTORY_KEY) + packer.pack([bytes(piece) for piece in header.history])
    for key in _TOTALS:
        body += packer.pack(key) + _uint64(getattr(header, key))
    if len(body) > MAX_HEADER_SIZE:
        raise ValueError("pouch header too large: shorten the sender, recipient or id")
    fixed = _FIXED.pack(MAGIC, header.version, header.flags, len(body), zlib.crc32(body))
    return fixed + body


def read(fileobj):
    """Read and check the header at the file's current position."""
    fixed = _read_exactly(fileobj, _FIXED.size, "the fixed header")
    magic, version, flags, length, crc = _FIXED.unpack(fixed)
    if magic != MAGIC:
        raise BadMagic(f"not a pouch: starts with {magic!r}, not {MAGIC!r} (byte 0)")
    if version != VERSION:
        raise UnsupportedVersion(f"pouch format version {version} (byte 4); this reader knows {VERSION}")
    if flags & ~KNOWN_FLAGS:
        raise UnsupportedVersion(f"pouch uses flags 0x{flags:02x} (byte 5); this reader knows 0x{KNOWN_FLAGS:02x}")
    body = _read_exactly(fileobj, length, "the header map")
    if zlib.crc32(body) != crc:
        raise MalformedHeader(f"header map (bytes {_FIXED.size}-{_FIXED.size + length}) fails its CRC: damaged")
    return _from_map(_unpack_map(body), version, flags)


def _read_exactly(fileobj, size, what):
    data = fileobj.read(size)
    if len(data) < size:
        raise TruncatedPouch(f"file ends inside {what}: {len(data)} of {size} bytes")
    return data


def _unpack_map(body):
    try:
        fields = msgpack.unpackb(body, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException) as error:
        raise MalformedHeader(f"header map does not decode: {error}") from None
    if not isinstance(fields, dict):
        raise MalformedHeader("header is not a map")
    return fields


def _from_map(fields, version, flags):
    values = {}
    for key, attribute in list(_MAP_KEYS.items()) + [(key, key) for key in _TOTALS]:
        expected = int if key in _TOTALS + ("created", "dict_id") else str
        value = fields.get(key)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise MalformedHeader(f"header field {key!r} is missing or not {expected.__name__}")
        values[attribute] = value
    return PouchHeader(version=version, flags=flags, history=_history(fields, flags), **values)


def _history(fields, flags):
    history = fields.get(HISTORY_KEY, [])
    if not isinstance(history, list) or len(history) > MAX_PIECES or not all(
            isinstance(piece, bytes) and len(piece) == PIECE_ID_BYTES for piece in history):
        raise MalformedHeader(f"header field {HISTORY_KEY!r} is not a list of at most {MAX_PIECES} "
                              f"{PIECE_ID_BYTES}-byte piece ids")
    if bool(history) != bool(flags & FLAG_HISTORY):
        raise MalformedHeader(f"header field {HISTORY_KEY!r} and the history flag disagree")
    return history
