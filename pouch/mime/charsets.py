"""Bytes to text for mail: trust the declared charset only as far as it deserves.

Mail declares charsets that are misspelt ("uft-8"), unknown to Python
("unicode-1-1-utf-7"), or simply wrong (UTF-8 bytes labelled iso-8859-1).
``decode_text`` never raises and prefers a charset in which the bytes are
valid over one that only "works" because every byte maps to something.
"""

import codecs
import functools

from pouch.limits import NUL

# Labels Python does not know, or knows under a narrower meaning than mail uses.
# Like browsers (WHATWG Encoding), read Latin-1 and ASCII as their Windows superset.
_ALIASES = {
    "uft-8": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "unicode-1-1-utf-8": "utf-8",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-user-defined": "cp1252",
    "windows-874": "cp874",
}

_LAST_RESORT = "cp1252"
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968"}
_MULTI_BYTE_GUESSES = ("cp932", "gb18030")


@functools.lru_cache(maxsize=256)
def codec_for(label):
    """The Python codec name for a MIME charset label, or None if unusable."""
    if not label:
        return None
    name = _ALIASES.get(_label(label), _label(label))
    try:
        _check_text_encoding(name)
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _check_text_encoding(name):
    """LookupError unless ``name`` is a text codec that reads any bytes, a bad one replaced.
    Python also has bytes-to-bytes codecs ("base64", "zlib"), which decoding refuses, and
    text codecs that raise even with "replace" ("idna", "punycode")."""
    try:
        bytes(range(256)).decode(name, "replace")
    except LookupError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever a codec raises, mail cannot be read with it
        raise LookupError(f"{name}: {error}") from None


def _label(label):
    return (label or "").strip().strip("\"'").lower()


@functools.lru_cache(maxsize=None)
def _is_single_byte(codec):
    # Single-byte codecs decode almost any byte string "successfully", so a
    # strict success proves nothing; multi-byte codecs reject most wrong input.
    return len(bytes(range(256)).decode(codec, "replace")) == 256


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` labelled ``declared``, without NUL characters (pouch.limits.storable: no
    mail holds one on purpose, RFC 5322 2.2); never raises."""
    return _decoded(data, declared).replace(NUL, "")


def _decoded(data, declared):
    codec = codec_for(declared)
    # UTF-8 with any non-ASCII byte is almost never valid by accident, so it
    # beats a single-byte label (the commonest mislabelling), even with a few
    # broken sequences (a name cut short). It does not beat a multi-byte label
    # such as Shift_JIS or UTF-16, which would reject wrong input.
    if not data.isascii() and (codec is None or _is_single_byte(codec)):
        text = _mostly_utf8(data)
        if text is not None:
            return text
    unlabelled = codec is None or _label(declared) in _ASCII_LABELS
    # East Asian 8-bit text sent without a label is mostly spam, but readable.
    guesses = _MULTI_BYTE_GUESSES if unlabelled else ()
    for candidate in filter(None, (codec, "utf-8", _LAST_RESORT, *guesses)):
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(codec or _LAST_RESORT, "replace")


def _mostly_utf8(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    decoded = sum(1 for char in text if ord(char) > 127) - broken
    return text if decoded >= 4 * broken else None


def unescape(text: str, charset: str | None = None) -> str:
    """Replace surrogate-escaped bytes (how the email package keeps undecodable
    8-bit data) by their most likely characters."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:
        return decode_text(text.encode("utf-8", "surrogateescape"), charset)
