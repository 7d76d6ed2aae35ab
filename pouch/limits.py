"""Limits on one message, defined once for both sides.

The box checks them when a message is written (web and API alike, in its
store), the relay where mail enters it: taking over a box's upload, the
SendGrid webhook and SMTP.  What goes over them is refused with a reason the
sender can read, never dropped in silence.
"""

# SendGrid's own limits: Mail Send takes at most 1,000 recipients in all, and a whole
# message (attachments included) of at most 30 MB; Inbound Parse posts at most 30 MB too.
MAX_RECIPIENTS = 1000
MAX_MESSAGE_BYTES = 30 * 1024 * 1024

# What a box chooses for what comes down (its admin page; BoxSettingsRecord): spam is held on the
# relay at or above the threshold, and an attachment over the limit comes as a placeholder.  The
# relay clamps what a box sends to the same bounds.
SPAM_THRESHOLD_DEFAULT = 5.0  # SpamAssassin's own required_score
SPAM_THRESHOLD_MIN, SPAM_THRESHOLD_MAX = 1.0, 20.0
ATTACHMENT_LIMIT_DEFAULT = 200 * 1024  # bytes: a document or a phone-sized photo comes at once
ATTACHMENT_LIMIT_MAX = MAX_MESSAGE_BYTES  # 0 (every attachment on request) up to this

# Requests (and verdicts, settings) one upload carries: far more than a box's users ask for between
# two syncs.  The box packs at most this many, oldest first (the rest ride the next upload); the
# relay takes at most this many of an upload and refuses the rest with a logged reason.
MAX_REQUESTS_PER_UPLOAD = 500

# Dates either side takes (Unix seconds): years 1900 to 9999.  Anything else is garbage, read as
# "no usable date" (0), since date arithmetic (threads, retention) must never overflow.
EARLIEST_DATE, LATEST_DATE = -2208988800, 253402300800


def usable_date(seconds):
    return EARLIEST_DATE <= seconds < LATEST_DATE


# Text either side stores: no NUL (PostgreSQL's text refuses it, and C strings end there) and no
# lone surrogate (UTF-8 cannot encode one; JSON's \u escapes can write both).
NUL = "\0"


def unstorable_text(value):
    """The first string in ``value`` (a string, or lists and maps of them as JSON or msgpack
    give) that neither side could store, or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, (list, tuple)):
            pending += item
        elif isinstance(item, str) and not storable(item):
            return item
    return None


def storable(text):
    if NUL in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def without_nul(value):
    """``value`` (text, or lists, tuples and maps of it) with its NUL characters taken out: for
    text a side writes itself from what a peer said (a server's reason), not for a peer's own."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, (list, tuple)):
        return type(value)(without_nul(item) for item in value)
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def whole_number(text, digits=18):
    """The number ``text`` writes in at most ``digits`` ASCII digits (18 fit a 64-bit column), else
    None.  str.isdigit() takes "²" and "١٢", which int() refuses or reads as another number."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None
