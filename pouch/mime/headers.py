"""Header values of received mail, decoded into the fields of a record.

Headers arrive raw (see ``policies.RawHeaderPolicy``): 8-bit bytes are still
surrogate-escaped and RFC 2047 words still encoded, so every decoding choice
is made here, where it can fall back instead of raising.
"""

import base64
import binascii
import re
from datetime import datetime, timezone
from email import errors, headerregistry
from email.utils import mktime_tz, parsedate_tz

from pouch.limits import NUL, usable_date

from .charsets import decode_text, unescape

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
_ENCODED_RUN = re.compile(rf"{_ENCODED_WORD.pattern}(?:\s+{_ENCODED_WORD.pattern})*")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BRACKETED_ID = re.compile(r"<([^<>]*)>")
_NOT_SIMPLE = re.compile(r'["()\\:;]|=\?')
_SIMPLE_ADDRESS = re.compile(r"(?:(?P<name>[^<>@]*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>|(?P<bare>[^<>\s]+@[^<>\s]+))")
_BARE_EMAIL = re.compile(r"[^\s<>(),;:\"\[\]]+@[^\s<>(),;:\"\[\]]+")
# One class for every address header: the registry builds a new class per lookup.
_ADDRESS_HEADER = headerregistry.HeaderRegistry()["to"]


def header_text(value: str | None, charset: str | None = None) -> str:
    """A raw header value as one line of text: unfolded, 8-bit bytes decoded
    (as UTF-8, else as ``charset``: the message's body charset is the best guess)."""
    if not value:
        return ""
    return unescape(_FOLD.sub("", value).replace("\r", "").replace("\n", " ").replace(NUL, ""), charset)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, joining adjacent ones before decoding
    (senders split multi-byte characters across words)."""
    if "=?" not in value:
        return value
    pieces = []  # [charset or None, bytes or str]
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos:match.start()]
        after_word = pieces and pieces[-1][0] is not None
        if gap and not (gap.isspace() and after_word):
            pieces.append([None, gap])
        charset = match[1].split("*", 1)[0].lower()  # RFC 2231 5: "*" starts a language
        data = _word_bytes(match[2], match[3]) if charset else None
        if data is None:  # not a word after all: kept as written
            pieces.append([None, match[0]])
        elif after_word and pieces[-1][0] == charset and not (gap and not gap.isspace()):
            pieces[-1][1] += data
        else:
            pieces.append([charset, data])
        pos = match.end()
    pieces.append([None, value[pos:]])
    return "".join(decode_text(data, charset) if charset else data for charset, data in pieces)


def _word_bytes(encoding, text):
    try:
        if encoding in "bB":
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None


def decoded(value: str | None, charset: str | None = None) -> str:
    """Text of an unstructured header, whitespace normalised (e.g. Subject)."""
    return " ".join(decode_words(header_text(value, charset)).split())


def addresses(values: list[str] | None, charset: str | None = None) -> list[tuple[str, str]]:
    """(name, email) pairs from address headers; groups are flattened and
    entries without a domain are dropped unless nothing better is there."""
    text = ", ".join(header_text(value, charset) for value in values or [])
    if not text.strip():
        return []
    # The email package keeps the space between adjacent encoded words, which
    # RFC 2047 says to drop: hand it each run as one word it cannot misread.
    text = _ENCODED_RUN.sub(_as_one_word, text)
    pairs = _simple_addresses(text) or _parsed_addresses(text) or [("", email) for email in _BARE_EMAIL.findall(text)]
    with_domain = [pair for pair in pairs if "@" in pair[1]]
    return with_domain or pairs


def _as_one_word(run):
    return "=?utf-8?b?" + base64.b64encode(decode_words(run[0]).encode()).decode() + "?="


def _simple_addresses(text):
    """Most lists are plain "Name <email>, email"; the full parser is slow."""
    if _NOT_SIMPLE.search(text):
        return None
    matches = [_SIMPLE_ADDRESS.fullmatch(item.strip()) for item in text.split(",") if item.strip()]
    if not matches or not all(matches):
        return None
    return [(" ".join((match["name"] or "").split()), match["email"] or match["bare"]) for match in matches]


def _parsed_addresses(text):
    try:
        header = _ADDRESS_HEADER("to", text)
        found = [(_clean_name(a.display_name), _clean_email(a.addr_spec)) for a in header.addresses]
    except (errors.HeaderParseError, IndexError, ValueError, TypeError, AttributeError):
        return []
    # A named null sender ("MAILER-DAEMON <>") is still worth showing.
    return [(name, email) for name, email in found if name or email]


# The email package decodes words ours leaves as written (one folded inside its charset):
# a NUL it finds there goes as header_text's do.
def _clean_email(email):
    email = unescape(email or "").replace(NUL, "")
    return "" if email == "<>" else email


def _clean_name(name):
    return " ".join(decode_words(unescape(name or "")).replace(NUL, "").split())


def date_seconds(value: str | None) -> int | None:
    """Unix seconds of an RFC 5322 date (or an ISO 8601 one), None if unreadable."""
    text = header_text(value)
    parsed = parsedate_tz(text) if text else None
    try:
        seconds = mktime_tz(parsed) if parsed else _iso_seconds(text)
    except (OverflowError, ValueError, TypeError):
        return None
    return seconds if seconds is not None and usable_date(seconds) else None


def _iso_seconds(text):
    when = datetime.fromisoformat(text.strip())
    return int(when.replace(tzinfo=when.tzinfo or timezone.utc).timestamp())


def received_date(values: list[str] | None) -> int | None:
    """The newest date stamped by a Received header (after its last ';')."""
    dates = [date_seconds(value.rpartition(";")[2]) for value in values or [] if ";" in value]
    dates = [date for date in dates if date is not None]
    return max(dates) if dates else None


def message_ids(value: str | None) -> list[str]:
    """Message-IDs without <>, kept whole: whitespace inside the brackets is dropped (a
    fold some senders put inside a long id, obsolete comments' spaces); those with an @
    first. Without brackets, the bare tokens holding an @."""
    text = header_text(value)
    bracketed = [found for found in ("".join(inner.split()) for inner in _BRACKETED_ID.findall(text)) if found]
    return ([found for found in bracketed if "@" in found] or bracketed
            or [token for token in text.split() if "@" in token])


def first_message_id(value: str | None) -> str | None:
    """The one id of a Message-ID (or In-Reply-To) header; a bare value without brackets or
    @ still names its message."""
    found = message_ids(value)
    if found:
        return found[0]
    bare = [token.strip("<>") for token in header_text(value).split() if not token.startswith("(")]
    return next((token for token in bare if token), None)
