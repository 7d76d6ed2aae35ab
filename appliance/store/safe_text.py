"""Text from outside the box made safe to show, whichever door it came in by (web page, API):
without bidi controls, and file names reduced to a base name; and numbers read from it."""

import mimetypes
import re

from pouch import limits
from pouch.mime import parts

# Bidirectional controls reorder what follows them: "invoice<U+202E>fdp.exe" reads "invoiceexe.pdf".
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_NAME = 255


def neutral(text):
    """Text with its bidi controls taken out, so it shows in the order it really has."""
    return BIDI_CONTROLS.sub("", text)


def safe_name(name, fallback="attachment"):
    """The last part of a path ("../../x" -> "x"), without control or bidi characters."""
    base = re.split(r"[/\\]", neutral(CONTROLS.sub("", name or "")))[-1].strip().lstrip(".")
    return base[:MAX_NAME] or fallback


def uploaded_type(claimed, name):
    """The type a file from a phone is kept as: the one it claims when that is a type, else
    the one its name says, else application/octet-stream.  A claim of "garbage" or with a
    NUL is a phone's mistake: its mail still goes, typed by what is known."""
    return parts.file_type(claimed or "") or mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def whole_number(text, digits=18):
    """The number ``text`` writes in at most ``digits`` ASCII digits, spaces around it aside
    (pouch.limits.whole_number), else None."""
    return limits.whole_number(text.strip(), digits)
