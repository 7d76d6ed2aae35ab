"""How one record is laid out inside the stream, and how it is checked on the way in.

A record is a msgpack array ``[kind, field, field, ...]``: positional fields, so
key names do not travel.  Fields are only ever appended, never reordered: a
reader fills fields missing at the end with their defaults and ignores extra
trailing fields, which lets old and new versions read each other's records.
Trailing fields still at their default are left out when writing.

Every kind is declared once, in ``KINDS``: its number, its name, the record class
it reads as, its fields and which side sends it.  A new kind is a class in
pouch.records and one entry here; each side's table of handlers then says what it
does with it (a test holds those tables to ``sent_by``).

Decoding never trusts what it reads: every field is type-checked, and a record
that does not fit raises ``RecordError`` with a reason a person can act on.
"""

import copy
from dataclasses import dataclass

from pouch import limits
from pouch.records import (AccountRecord, AccountStatusRecord, Attachment, BlobRecord, BoxSettingsRecord, FlagRecord,
                           HeldRecord, MessageRecord, RefusalRecord, RequestRecord, StatusRecord, VerdictRecord)

BOX, RELAY = "box", "relay"  # who sends a kind
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


_any_text = _is(lambda value: isinstance(value, str), "text")


def _text(value, name):
    """Text holds no NUL (pouch.limits.storable): a peer's record with one is refused whole."""
    if not limits.storable(_any_text(value, name)):
        raise RecordError(f"{name} holds a NUL character, which no mail holds and no database stores")
    return value


_count = _is(lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
             "a whole number >= 0")
# Dates are signed: mail from before 1970 exists, and one must never make a record unreadable.
_moment = _is(lambda value: isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63,
              "a whole number of seconds (signed, 64-bit)")
_flag = _is(lambda value: isinstance(value, bool), "true or false")
_digest = _is(lambda value: isinstance(value, bytes) and len(value) == SHA256_SIZE, f"a {SHA256_SIZE}-byte sha256")
_bytes = _is(lambda value: isinstance(value, bytes), "bytes")
_map = _is(lambda value: isinstance(value, dict) and limits.unstorable_text(value) is None,
           "a map (its text without NUL characters)")
_score = _is(lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)
             and -1e6 < value < 1e6, "a number")
_maybe_digest = _is(lambda value: isinstance(value, bytes) and len(value) in (0, SHA256_SIZE),
                    f"empty or a {SHA256_SIZE}-byte sha256")
_limits = _is(lambda value: isinstance(value, dict) and all(
    isinstance(k, str) and limits.storable(k) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
    for k, v in value.items()),
    "a map of address to a whole number >= 0")


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


class _Records:
    """A field holding a list of smaller records (a message's attachments), each itself a
    list of positional fields."""

    def __init__(self, cls, fields):
        self._cls, self._fields = cls, fields
        self._check = _list(self._one)

    def __call__(self, value, name):
        return self._check(value, name)

    def _one(self, value, name):
        if not isinstance(value, list):
            raise RecordError(f"{name} should be a list of fields")
        return self._cls(**_decode_fields(self._fields, value, name))

    def encode(self, items):
        return [_encode_fields(self._fields, item) for item in items]


# (attribute, check, default): the wire order of each kind's fields.
ATTACHMENT_FIELDS = (
    ("name", _text, _REQUIRED),
    ("type", _text, _REQUIRED),
    ("size", _count, _REQUIRED),
    ("sha256", _digest, _REQUIRED),
    ("cid", _optional_text, None),
    ("inline", _flag, False),
    ("held", _flag, False),
    ("preview", _bytes, b""),
    ("original_size", _count, 0),
    ("original_sha256", _maybe_digest, b""),
)

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
    ("attachments", _Records(Attachment, ATTACHMENT_FIELDS), []),
    ("recipients", _list(_text), []),
    ("extra", _map, {}),
    ("automatic", _flag, False),
    ("parent", _text, ""),
    ("packed_body", _bytes, b""),
)

BLOB_FIELDS = (
    ("sha256", _digest, _REQUIRED),
    ("size", _count, _REQUIRED),
    ("offset", _count, _REQUIRED),
    ("data", _bytes, _REQUIRED),
)

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


HELD_FIELDS = (
    ("id", _text, _REQUIRED),
    ("from_", _list(_address), _REQUIRED),
    ("subject", _text, ""),
    ("size", _count, 0),
    ("score", _score, 0.0),
    ("date", _moment, 0),
    ("recipients", _list(_text), []),
    ("until", _count, 0),
)

REQUEST_FIELDS = (
    ("what", _text, _REQUIRED),
    ("message_id", _text, _REQUIRED),
    ("sha256", _maybe_digest, b""),
    ("at", _count, 0),
    ("user", _text, ""),
)

REFUSAL_FIELDS = (
    ("message_id", _text, _REQUIRED),
    ("what", _text, _REQUIRED),
    ("sha256", _maybe_digest, b""),
    ("reason", _text, ""),
    ("at", _count, 0),
)

VERDICT_FIELDS = (
    ("message_id", _text, _REQUIRED),
    ("spam", _flag, _REQUIRED),
    ("at", _count, _REQUIRED),
    ("user", _text, ""),
)

BOX_SETTINGS_FIELDS = (
    ("spam_threshold", _score, _REQUIRED),
    ("attachment_limit", _count, _REQUIRED),
    ("user_limits", _limits, {}),
    ("at", _count, 0),
)


def _within_its_blob(chunk):
    if chunk.offset + len(chunk.data) > chunk.size:
        raise RecordError(f"blob chunk at {chunk.offset} runs past the blob's size {chunk.size}")


@dataclass(frozen=True)
class Kind:
    """One record kind, as it travels."""

    code: int  # its number on the wire: never reused
    name: str  # for people (logs, inspect) and for each side's table of handlers
    record: type  # the pouch.records class it reads as
    fields: tuple
    sent_by: tuple  # BOX, RELAY: what each side's reader must be ready for
    check: object = None  # a check of the whole record, after its fields


# Append only: a kind's code and fields are what old pouches on disk hold.
KINDS = (
    Kind(1, "message", MessageRecord, MESSAGE_FIELDS, (BOX, RELAY)),
    # A blob travels in chunks of at most the writer's chunk size; readers put them together again.
    Kind(2, "blob", BlobChunk, BLOB_FIELDS, (BOX, RELAY), check=_within_its_blob),
    Kind(3, "status", StatusRecord, STATUS_FIELDS, (RELAY,)),
    Kind(4, "account", AccountRecord, ACCOUNT_FIELDS, (BOX,)),
    Kind(5, "account status", AccountStatusRecord, ACCOUNT_STATUS_FIELDS, (RELAY,)),
    Kind(6, "flag", FlagRecord, FLAG_FIELDS, (BOX, RELAY)),  # read state, set on either side
    Kind(7, "held", HeldRecord, HELD_FIELDS, (RELAY,)),  # a message held as spam, in one line
    Kind(8, "request", RequestRecord, REQUEST_FIELDS, (BOX,)),  # bring what the relay holds back
    Kind(9, "verdict", VerdictRecord, VERDICT_FIELDS, (BOX,)),  # spam or not, for the Bayes filter
    Kind(10, "box settings", BoxSettingsRecord, BOX_SETTINGS_FIELDS, (BOX,)),
    Kind(11, "refusal", RefusalRecord, REFUSAL_FIELDS, (RELAY,)),  # a request the relay will not serve
)
_BY_CODE = {kind.code: kind for kind in KINDS}
_BY_CLASS = {kind.record: kind for kind in KINDS} | {BlobRecord: _BY_CODE[2]}  # a blob put together
_BY_NAME = {kind.name: kind for kind in KINDS}
NAMES = tuple(_BY_NAME)


def sent_by(side):
    """The names of the kinds ``side`` (BOX or RELAY) writes: the other side must take each."""
    return {kind.name for kind in KINDS if side in kind.sent_by}


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
    values = [_encoded(check, getattr(obj, attribute)) for attribute, check, _ in fields]
    while values and values[-1] == fields[len(values) - 1][2]:  # trailing defaults stay home
        values.pop()
    return values


def _encoded(check, value):
    return check.encode(value) if isinstance(check, _Records) else value


# --- public ---

def kind_of(record):
    """The Kind of a record object (a BlobRecord and its BlobChunks are blobs)."""
    try:
        return _BY_CLASS[type(record)]
    except KeyError:
        raise TypeError(f"{type(record).__name__} is not a pouch record") from None


def kind_named(name):
    """The Kind called ``name`` (as in NAMES)."""
    return _BY_NAME[name]


def encode(record):
    """Any record of KINDS as its wire array; a whole BlobRecord goes as BlobChunks (PouchWriter)."""
    kind = kind_of(record)
    if not isinstance(record, kind.record):
        raise TypeError("a blob is written in chunks (PouchWriter.add)")
    return [kind.code] + _encode_fields(kind.fields, record)


def kind_name(fields):
    """A record's kind for messages, whatever state the rest of it is in."""
    if isinstance(fields, list) and fields and type(fields[0]) is int:
        return _BY_CODE[fields[0]].name if fields[0] in _BY_CODE else f"kind {fields[0]}"
    return "unknown kind"


def decode(fields):
    """A decoded msgpack array -> the record of its kind (a BlobChunk for a blob)."""
    if not isinstance(fields, list) or not fields or type(fields[0]) is not int:
        raise RecordError("a record should be a list that starts with its kind")
    kind = _BY_CODE.get(fields[0])
    if kind is None:
        raise UnknownKind(f"unknown record kind {fields[0]!r:.20} (written by a newer version?)")
    record = kind.record(**_decode_fields(kind.fields, fields[1:], kind.name.replace(" ", "_")))
    if kind.check:
        kind.check(record)
    return record
