"""How one record is laid out inside the stream, and how it is checked on the way in.

A record is a msgpack array ``[kind, field, field, ...]``: positional fields, so
key names do not travel.  Fields are only ever appended, never reordered: a
reader fills fields missing at the end with their defaults and ignores extra
trailing fields, which lets old and new versions read each other's records.
Trailing fields still at their default are left out when writing.

Decoding never trusts what it reads: every field is type-checked, and a record
that does not fit raises ``RecordError`` with a reason a person can act on.
"""

import copy
from dataclasses import dataclass

from pouch.records import (AccountRecord, AccountStatusRecord, Attachment, FlagRecord, MessageRecord,
                           StatusRecord)

KIND_MESSAGE = 1
KIND_BLOB = 2  # one chunk of a blob: [2, sha256, total size, offset, data]
KIND_STATUS = 3
KIND_ACCOUNT = 4
KIND_ACCOUNT_STATUS = 5
KIND_FLAG = 6
KIND_NAMES = {KIND_MESSAGE: "message", KIND_BLOB: "blob", KIND_STATUS: "status", KIND_ACCOUNT: "account",
              KIND_ACCOUNT_STATUS: "account status", KIND_FLAG: "flag"}

SHA256_SIZE = 32
_REQUIRED = object()


class RecordError(ValueError):
    """A record that does not decode; the reader adds where it is."""


class UnknownKind(RecordError):
    """A kind this reader does not know, written by a newer version: skipped."""


@dataclass
class BlobChunk:
    """One piece of a blob, for readers that must not hold a whole blob in memory."""

    sha256: bytes
    size: int  # of the whole blob
    offset: int
    data: bytes

    @property
    def last(self):
        return self.offset + len(self.data) == self.size


# --- field checks: each returns the value as the record wants it, or raises ---

def _shown(value):
    return repr(value)[:40] if isinstance(value, (int, float, bool, type(None))) else type(value).__name__


def _is(accepts, description):
    def check(value, name):
        if not accepts(value):
            raise RecordError(f"{name} should be {description}, not {_shown(value)}")
        return value
    return check


_text = _is(lambda value: isinstance(value, str), "text")
_count = _is(lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
             "a whole number >= 0")
# Dates are signed: mail from before 1970 exists, and one must never make a record unreadable.
_moment = _is(lambda value: isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63,
              "a whole number of seconds (signed, 64-bit)")
_flag = _is(lambda value: isinstance(value, bool), "true or false")
_digest = _is(lambda value: isinstance(value, bytes) and len(value) == SHA256_SIZE, f"a {SHA256_SIZE}-byte sha256")
_bytes = _is(lambda value: isinstance(value, bytes), "bytes")
_map = _is(lambda value: isinstance(value, dict), "a map")


def _optional_text(value, name):
    return None if value is None else _text(value, name)


def _list(check):
    def checked(value, name):
        if not isinstance(value, list):
            raise RecordError(f"{name} should be a list, not {type(value).__name__}")
        return [check(item, f"{name}[{i}]") for i, item in enumerate(value)]
    return checked


def _address(value, name):
    if not isinstance(value, list) or len(value) != 2:
        raise RecordError(f"{name} should be a [name, email] pair")
    return (_text(value[0], name + " name"), _text(value[1], name + " email"))


# (attribute, check, default): the wire order of each kind's fields.
ATTACHMENT_FIELDS = (
    ("name", _text, _REQUIRED),
    ("type", _text, _REQUIRED),
    ("size", _count, _REQUIRED),
    ("sha256", _digest, _REQUIRED),
    ("cid", _optional_text, None),
    ("inline", _flag, False),
)


def _attachment(value, name):
    if not isinstance(value, list):
        raise RecordError(f"{name} should be a list of fields")
    return Attachment(**_decode_fields(ATTACHMENT_FIELDS, value, name))


MESSAGE_FIELDS = (
    ("id", _text, _REQUIRED),
    ("from_", _list(_address), _REQUIRED),
    ("to", _list(_address), []),
    ("cc", _list(_address), []),
    ("bcc", _list(_address), []),
    ("reply_to", _list(_address), []),
    ("subject", _text, ""),
    ("date", _moment, 0),
    ("message_id", _text, ""),
    ("in_reply_to", _optional_text, None),
    ("references", _list(_text), []),
    ("body", _text, ""),
    ("body_type", _text, "text"),
    ("attachments", _list(_attachment), []),
    ("recipients", _list(_text), []),
    ("extra", _map, {}),
    ("automatic", _flag, False),
)

_ATTACHMENTS_AT = [attribute for attribute, _, _ in MESSAGE_FIELDS].index("attachments")

STATUS_FIELDS = (
    ("message_id", _text, _REQUIRED),
    ("state", _text, _REQUIRED),
    ("at", _count, _REQUIRED),
    ("reason", _text, ""),
)

ACCOUNT_FIELDS = (
    ("id", _text, _REQUIRED),
    ("owner", _text, _REQUIRED),
    ("address", _text, _REQUIRED),
    ("state", _text, _REQUIRED),
    ("sealed", _bytes, b""),
)

ACCOUNT_STATUS_FIELDS = (
    ("id", _text, _REQUIRED),
    ("state", _text, _REQUIRED),
    ("at", _count, _REQUIRED),
    ("error", _text, ""),
    ("synced_at", _count, 0),
)

FLAG_FIELDS = (
    ("message_id", _text, _REQUIRED),
    ("seen", _flag, _REQUIRED),
    ("at", _count, _REQUIRED),
)

# The kinds whose fields are all plain values: (kind, class, fields), one entry each.
PLAIN_KINDS = (
    (KIND_STATUS, StatusRecord, STATUS_FIELDS),
    (KIND_ACCOUNT, AccountRecord, ACCOUNT_FIELDS),
    (KIND_ACCOUNT_STATUS, AccountStatusRecord, ACCOUNT_STATUS_FIELDS),
    (KIND_FLAG, FlagRecord, FLAG_FIELDS),
)
_PLAIN_BY_KIND = {kind: (cls, fields) for kind, cls, fields in PLAIN_KINDS}
_PLAIN_BY_CLASS = {cls: (kind, fields) for kind, cls, fields in PLAIN_KINDS}

BLOB_FIELDS = (
    ("sha256", _digest, _REQUIRED),
    ("size", _count, _REQUIRED),
    ("offset", _count, _REQUIRED),
    ("data", _bytes, _REQUIRED),
)


def _decode_fields(fields, values, where):
    decoded = {}
    for position, (attribute, check, default) in enumerate(fields):
        name = f"{where}.{attribute.rstrip('_')}"
        if position < len(values):
            decoded[attribute] = check(values[position], name)
        elif default is _REQUIRED:
            raise RecordError(f"{name} is missing")
        else:
            decoded[attribute] = copy.copy(default)  # never share a mutable default
    return decoded


def _encode_fields(fields, obj):
    values = [getattr(obj, attribute) for attribute, _, _ in fields]
    while values and values[-1] == fields[len(values) - 1][2]:  # trailing defaults stay home
        values.pop()
    return values


# --- public ---

def encode_message(record):
    encoded = _encode_fields(MESSAGE_FIELDS, record)
    if len(encoded) > _ATTACHMENTS_AT:
        encoded[_ATTACHMENTS_AT] = [_encode_fields(ATTACHMENT_FIELDS, a) for a in encoded[_ATTACHMENTS_AT]]
    return [KIND_MESSAGE] + encoded


def encode_plain(record):
    """A StatusRecord, AccountRecord, AccountStatusRecord or FlagRecord as its wire array."""
    kind, fields = _PLAIN_BY_CLASS[type(record)]
    return [kind] + _encode_fields(fields, record)


def encode_blob_chunk(sha256, size, offset, data):
    return [KIND_BLOB, sha256, size, offset, data]


def kind_name(fields):
    """A record's kind for messages, whatever state the rest of it is in."""
    if isinstance(fields, list) and fields and type(fields[0]) is int:
        return KIND_NAMES.get(fields[0], f"kind {fields[0]}")
    return "unknown kind"


def decode(fields):
    """A decoded msgpack array -> MessageRecord, BlobChunk or one of PLAIN_KINDS' records."""
    if not isinstance(fields, list) or not fields or type(fields[0]) is not int:
        raise RecordError("a record should be a list that starts with its kind")
    kind, values = fields[0], fields[1:]
    if kind == KIND_MESSAGE:
        return MessageRecord(**_decode_fields(MESSAGE_FIELDS, values, "message"))
    if kind in _PLAIN_BY_KIND:
        cls, fields = _PLAIN_BY_KIND[kind]
        return cls(**_decode_fields(fields, values, KIND_NAMES[kind].replace(" ", "_")))
    if kind == KIND_BLOB:
        return _decode_blob_chunk(values)
    raise UnknownKind(f"unknown record kind {kind!r:.20} (written by a newer version?)")


def _decode_blob_chunk(values):
    chunk = BlobChunk(**_decode_fields(BLOB_FIELDS, values, "blob"))
    if chunk.offset + len(chunk.data) > chunk.size:
        raise RecordError(f"blob chunk at {chunk.offset} runs past the blob's size {chunk.size}")
    return chunk
