"""A MessageRecord (plus attachment bytes) to an RFC 5322 message for sending.

The layout is the one mail clients write: mixed( alternative( text,
related( html, inline images ) ), attachments ), with the unneeded levels
left out. Bodies are 7-bit clean (quoted-printable or base64) with CRLF line
ends; .eml attachments keep their bytes (RFC 2046 forbids base64 there), and
non-ASCII addresses make the headers UTF-8 (RFC 6532: needs SMTPUTF8).
"""

import base64
import hashlib
import re
import time
from datetime import datetime, timezone
from email.message import MIMEPart
from email.parser import BytesParser
from email.utils import format_datetime

from pouch.records import BODY_HTML, MessageRecord

from . import policies
from .bodytext import html_to_text
from .errors import MimeError
from .parse import trimmed_references
from .parts import file_type, safe_name

_FALLBACK_TYPE = ("application", "octet-stream")
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_NOT_IN_ID = re.compile(r"[\s<>]+")
_MAX_LINE = 78


def build(record: MessageRecord, blobs) -> bytes:
    """The message for ``record``; ``blobs`` maps sha256 digests to attachment bytes."""
    # MIMEPart, unlike EmailMessage, does not stamp MIME-Version on every sub-part.
    message = MIMEPart(policy=policies.CREATING)
    for name, value in _headers(record):
        message[name] = policies.Verbatim(value)
    message["MIME-Version"] = "1.0"
    html = _set_body(message, record)
    for attachment in record.attachments:
        data = _blob(blobs, attachment)
        if html and attachment.cid and attachment.inline:
            # The first image turns the html part into multipart/related, in place.
            html.add_related(data, *_content_type(attachment), **_part_fields(attachment))
        else:
            _attach(message, attachment, data)
    writing = policies.WRITING if _is_ascii(record) else policies.WRITING.clone(utf8=True)
    return message.as_bytes(policy=writing)


def _set_body(message, record):
    """Set the body; returns the text/html part, if there is one."""
    if record.body_type != BODY_HTML:
        message.set_content(record.body)
        return None
    message.set_content(html_to_text(record.body))
    message.add_alternative(record.body, subtype="html")
    return message.get_payload()[1]


def _headers(record):
    yield "From", _address_list("From", record.from_)
    for name, pairs in (("To", record.to), ("Cc", record.cc), ("Reply-To", record.reply_to)):
        if pairs:
            yield name, _address_list(name, pairs)
    yield "Subject", _encoded("Subject", " ".join(record.subject.split()))
    for name, value in identity_headers(record):
        yield name, _folded(name, value)


def identity_headers(record: MessageRecord, now=None) -> list:
    """Date, Message-ID, In-Reply-To and References of ``record`` as [(name, value)], unfolded:
    what replies thread on, the same whichever way the message leaves (MIME here, SendGrid's
    ``headers``). ``now``: the date of a message that has none, default the clock."""
    identity = [("Date", _date(record.date or now or int(time.time()))),  # no date: sent now
                ("Message-ID", _bracketed(record.message_id) or _new_message_id(record))]
    if _bracketed(record.in_reply_to):
        identity.append(("In-Reply-To", _bracketed(record.in_reply_to)))
    references = " ".join(filter(None, map(_bracketed, trimmed_references(record.references))))
    if references:
        identity.append(("References", references))
    return identity


def _date(seconds):
    try:
        return format_datetime(datetime.fromtimestamp(seconds, timezone.utc))
    except (OverflowError, OSError, ValueError):  # past year 9999, say: the box's clock is wrong
        return format_datetime(datetime.fromtimestamp(int(time.time()), timezone.utc))


def _bracketed(message_id):
    # Whatever the record holds, it cannot break out of its header.
    message_id = _NOT_IN_ID.sub("", message_id or "")
    return f"<{message_id}>" if message_id else ""


def _is_ascii(record):
    emails = [email for pairs in (record.from_, record.to, record.cc, record.reply_to) for _, email in pairs]
    ids = [record.message_id, record.in_reply_to or "", *record.references]
    return all(text.isascii() for text in emails + ids)


def _encoded(name, text):
    return _folded(name, text if _is_plain(text) else " ".join(_encoded_words(text)))


def _is_plain(text):
    return text.isascii() and "=?" not in text  # else a reader would decode it


def _encoded_words(text, max_bytes=39):
    """RFC 2047 words for ``text``, split between characters; 39 bytes make
    64-character words, which fit a line after any header name we write.
    Readers drop the whitespace between the words."""
    chunks = [""]
    for char in text:
        if len((chunks[-1] + char).encode()) > max_bytes:
            chunks.append("")
        chunks[-1] += char
    return [f"=?utf-8?b?{base64.b64encode(chunk.encode()).decode()}?=" for chunk in chunks if chunk]


def _address_list(name, pairs):
    return _folded(name, ", ".join(_address(person, email) for person, email in pairs if person or email))


def _address(name, email):
    name, email = " ".join(name.split()), " ".join(email.split())
    if not name:
        return email
    if not _is_plain(name):
        name = " ".join(_encoded_words(name))
    elif _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{email}>"  # "<>" for a named null sender, as bounces have


def _folded(name, text):
    """The value of ``name: text``, folded at spaces so that lines stay within
    78 characters where the words allow."""
    lines, line = [], f"{name}:"
    for word in text.split(" "):
        if word and len(line) + 1 + len(word) > _MAX_LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return "\r\n".join(lines)[len(name) + 2:]


def _new_message_id(record):
    """An id for a record that has none, derived from it so that every attempt and every
    transport gives the message the same one."""
    domain = (record.from_[0][1].rpartition("@")[2] if record.from_ else "") or "mailpouch.invalid"
    seed = "\0".join([record.id, str(record.date), record.subject, *(email for _, email in record.from_)])
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return _bracketed(f"{digest}@{domain}")


def _blob(blobs, attachment):
    try:
        return blobs[attachment.sha256]
    except KeyError:
        raise MimeError(f"attachment {attachment.name!r}: blob {attachment.sha256.hex()} is missing") from None


def _content_type(attachment):
    usable = file_type(attachment.type)
    return tuple(usable.split("/")) if usable else _FALLBACK_TYPE


def _part_fields(attachment):
    return {
        "filename": safe_name(attachment.name) or None,
        "cid": policies.Verbatim(_bracketed(attachment.cid)) if _bracketed(attachment.cid) else None,
        "disposition": "inline" if attachment.inline else "attachment",
    }


def _attach(message, attachment, data):
    maintype, subtype = _content_type(attachment)
    fields = _part_fields(attachment)
    if maintype == "message" and subtype not in ("partial", "external-body"):
        _attach_message(message, subtype, data, fields)
    else:
        message.add_attachment(data, maintype, subtype, **fields)


def _attach_message(message, subtype, data, fields):
    # Embedded as the parser splits it (one message, or the header blocks of
    # a delivery-status) so that its bytes, 8-bit or not, are written back as
    # they are and read back the same (RFC 2046 5.2.1: never base64).
    header = f"Content-Type: message/{subtype}\r\n\r\n".encode()
    embedded = BytesParser(policy=policies.PARSING).parsebytes(header + data).get_payload()
    if not isinstance(embedded, list) or not embedded:
        message.add_attachment(data, "message", subtype, **fields, cte="7bit" if data.isascii() else "8bit")
        return
    message.add_attachment(embedded[0], subtype, **fields, cte="7bit" if data.isascii() else "8bit")
    message.get_payload()[-1].set_payload(embedded)
