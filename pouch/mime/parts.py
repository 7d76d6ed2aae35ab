"""One MIME part of a received message: what it is, its text, its bytes."""

import base64
import binascii
import hashlib
import io
import mimetypes
import quopri
import re
from email.generator import BytesGenerator
from email.parser import BytesParser

from pouch.records import Attachment

from . import bodytext, headers, policies
from .charsets import decode_text


BODY_TYPES = ("text/plain", "text/html")

# Names for parts that carry none, where a type-based name says more than "attachment".
_NAMES_BY_TYPE = {
    "message/delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "message/feedback-report": "feedback-report.txt",
    "text/rfc822-headers": "headers.txt",
    "text/calendar": "invite.ics",
    "application/ics": "invite.ics",
    "application/pgp-signature": "signature.asc",
    "application/pgp-encrypted": "pgp-encrypted.asc",
}
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")
_MAX_NAME = 200
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_:.-]+)""", re.IGNORECASE)


# A type and a subtype of RFC 2045 token characters, each at most 127 (RFC 6838 4.2).
_MEDIA_TYPE = re.compile(r"[!#$%&'*+\-.^_`{|}~0-9a-z]{1,127}/[!#$%&'*+\-.^_`{|}~0-9a-z]{1,127}")


def media_type(claimed: str) -> str | None:
    """The "type/subtype" of a claimed Content-Type, lowercased, without its parameters; None
    when it is no such pair (a NUL, bytes no charset reads, a bare word): the one rule for a
    type any peer gives, a sender's mail, a phone's upload or a box's record."""
    written = claimed.split(";", 1)[0].strip().lower()
    return written if _MEDIA_TYPE.fullmatch(written) else None


def file_type(claimed: str) -> str | None:
    """media_type for a file's type: never multipart/*, the type of a container only."""
    usable = media_type(claimed)
    return None if usable is None or usable.startswith("multipart/") else usable


def content_type(part):
    """The part's MIME type; text/plain when it is unreadable (RFC 2045 5.2)."""
    return media_type(part.get_content_type()) or "text/plain"


def is_container(part):
    return part.get_content_maintype() == "multipart" and part.is_multipart()


def leaves(part):
    """Leaf parts in order; a message/* part is one leaf (its content is an .eml)."""
    if is_container(part):
        for child in part.get_payload():
            yield from leaves(child)
    else:
        yield part


def is_body_text(part):
    # A multipart whose boundary never shows up is left as text by the parser.
    if part.get_content_maintype() == "multipart":
        return not part.is_multipart()
    return (
        content_type(part) in BODY_TYPES
        and part.get_content_disposition() != "attachment"
        and not given_name(part)
    )


def is_html(part):
    return content_type(part) == "text/html"


def text(part):
    """The decoded text of a body part, with \\n line ends."""
    data = content_bytes(part)
    label = charset(part) or (_meta_charset(data) if is_html(part) else None)
    decoded = decode_text(data, label).replace("\r\n", "\n").replace("\r", "\n")
    if param(part, "format").lower() == "flowed" and not is_html(part):
        decoded = bodytext.unflow(decoded, delsp=param(part, "delsp").lower() == "yes")
    return decoded


def _meta_charset(html):
    """The charset an HTML document declares in its <meta>, for parts whose
    Content-Type does not say."""
    found = _META_CHARSET.search(html[:2048])
    return found[1].decode("ascii") if found else None


def charset(part):
    """The charset the part declares, if it can be read."""
    try:
        return part.get_content_charset()
    except (LookupError, UnicodeError, ValueError):
        return None


def content_bytes(part):
    """The part's content with its transfer encoding undone."""
    # is_multipart, not get_payload(): that decodes a string payload in its charset, and for
    # "idna" or "punycode" raises even with "replace".
    if part.get_content_maintype() == "message" or part.is_multipart():
        return _message_bytes(part)
    return part.get_payload(decode=True) or b""


def _message_bytes(part):
    # The parser has split a message/* part into objects: write them back
    # out, in a canonical form (CRLF, one line end at the end) so that writing
    # the result again gives the same bytes.
    data = _written(part)
    data = data[2:] if not part.keys() else data.partition(b"\r\n\r\n")[2]
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):  # not allowed, but sent
        data = _written(BytesParser(policy=policies.PARSING).parsebytes(_decoded(data, encoding)))
    return data.rstrip(b"\r\n") + b"\r\n"


def _decoded(data, encoding):
    try:
        return base64.b64decode(data) if encoding == "base64" else quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return data


def _written(message):
    buffer = io.BytesIO()
    _RawGenerator(buffer, mangle_from_=False, policy=policies.WRITING).flatten(message)
    return buffer.getvalue()


class _RawGenerator(BytesGenerator):
    """A multipart the parser found no parts in (no boundary line) is written as the bytes it
    came as.  The stdlib's own decodes such a body in its charset when it holds 8-bit bytes,
    then cannot write what that made ("gb2312": UnicodeEncodeError, the whole message lost)."""

    def _handle_multipart(self, msg):
        if isinstance(msg._payload, str):
            self._fp.write(msg._payload.encode("ascii", "surrogateescape"))
            return
        super()._handle_multipart(msg)


def attachment(part, index):
    """The Attachment of a non-body leaf, and its bytes."""
    data = content_bytes(part)
    cid = headers.header_text(part.get("content-id")).strip().strip("<>").strip() or None
    disposition = part.get_content_disposition()
    record = Attachment(
        name=_name(part, index),
        type=content_type(part),
        size=len(data),
        sha256=hashlib.sha256(data).digest(),
        cid=cid,
        inline=disposition == "inline" or (disposition is None and cid is not None),
    )
    return record, data


def param(part, name, header="content-type"):
    """A header parameter as text, RFC 2231 and RFC 2047 decoded ("" if absent)."""
    value = part.get_param(name, None, header)
    if isinstance(value, tuple):  # RFC 2231: (charset, language, latin-1 text of the bytes)
        label, _, encoded = value
        value = decode_text(encoded.encode("latin-1", "ignore"), label)
    return headers.decoded(value) if value else ""


def given_name(part):
    """The file name the sender gave the part, if any."""
    return param(part, "filename", "content-disposition") or param(part, "name")


def _name(part, index):
    return safe_name(given_name(part)) or _made_up_name(part, index)


def safe_name(name):
    # Only the last path component, without control characters: the name is
    # shown to users and may become a file name on their device.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAME.sub("", name).strip(" .")
    return name[:_MAX_NAME]


def _made_up_name(part, index):
    mime_type = content_type(part)
    if mime_type == "message/rfc822":
        subject = safe_name(_inner_subject(part))
        return f"{subject[:80] or 'message'}.eml"
    if mime_type in _NAMES_BY_TYPE:
        return _NAMES_BY_TYPE[mime_type]
    extension = mimetypes.guess_extension(mime_type, strict=False) or ".bin"
    return f"attachment-{index}{extension}"


def _inner_subject(part):
    payload = part.get_payload() if part.is_multipart() else None
    if payload:
        return headers.decoded(payload[0].get("subject"))
    return ""
