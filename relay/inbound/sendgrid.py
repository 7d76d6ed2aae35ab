"""SendGrid Inbound Parse posts: the raw MIME and envelope recipients of one message.

Raw mode sends the whole message in the ``email`` field.  Parsed mode sends
its pieces (``headers``: the original header block as it came, ``text``,
``html``, files ``attachment1..N`` described by ``attachment-info``, field
charsets in ``charsets``); the message is put back together from them: the
original headers kept as they were (8-bit bytes as UTF-8), a body of our own.
The same post always makes the same bytes, so a retry is recognised as one.

Wrong shapes are refused with a reason (400): SendGrid drops what we refuse,
so anything the fields can carry is otherwise taken.
"""

import hashlib
import json
import math
import re
from email.message import EmailMessage
from email.parser import BytesHeaderParser

from tornado import httputil

from pouch.mime import headers, parts, policies
from pouch.mime.charsets import decode_text
from relay.inbound.store import header_block

# Headers that describe the original body's structure: the rebuilt message has its own.
STRUCTURE_HEADERS = {b"content-type", b"content-transfer-encoding", b"mime-version"}
# SendGrid documents some twenty fields plus one file part per attachment, in a post of at most
# 30 MB. Real mail carries at most a few hundred attachments; a post cannot make us parse more.
MAX_FIELDS = 64
MAX_ATTACHMENTS = 5000
MAX_FORM_PARTS = MAX_FIELDS + MAX_ATTACHMENTS
MAX_PART_HEADER_BYTES = 64 * 1024  # a file part's Content-Disposition holds its (long, encoded) filename
# A box shows at most 200 characters of a file name (pouch.mime.parts); the email package takes
# 23 us a character to encode one, so 30 MB of names would hold the relay for minutes.
MAX_FILENAME_CHARS = 255
_HEADER_START = re.compile(rb"[!-9;-~]+:")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_INVALID = "Invalid multipart/form-data: "  # tornado 6.5 says it twice


class InboundParseError(ValueError):
    """The post is not a usable Inbound Parse payload."""


def read_post(content_type, body):
    """(raw MIME bytes, envelope sender, [envelope recipients], SendGrid's spam score or None)
    of one Inbound Parse post."""
    fields, files = _form(content_type, body)
    charsets = _json_object(fields, "charsets", {})
    if not all(isinstance(value, str) for value in charsets.values()):
        raise InboundParseError("the 'charsets' field must map field names to charset names")
    raw = fields["email"][0] if "email" in fields else _reassemble(fields, files, charsets)
    mail_from, recipients = _envelope(fields, raw)
    if not recipients:
        raise InboundParseError("the post names no recipient")
    return raw, mail_from, recipients, spam_score(fields)


def spam_score(fields):
    """SendGrid's ``spam_score`` (its spam check, when on); None when absent or no number:
    refusing the post would lose the mail."""
    try:
        score = float(fields["spam_score"][0].decode("ascii").strip())
    except (KeyError, IndexError, UnicodeDecodeError, ValueError):
        return None
    return score if math.isfinite(score) else None


def _form(content_type, body):
    if not content_type.lower().startswith("multipart/form-data"):
        raise InboundParseError("expected multipart/form-data, as SendGrid posts")
    boundary = _BOUNDARY.search(content_type)
    if not boundary:
        raise InboundParseError("the Content-Type names no multipart boundary")
    if body.count(b"--" + boundary[1].encode("latin-1", "replace")) > MAX_FORM_PARTS + 1:
        raise InboundParseError(f"the post has more than {MAX_FORM_PARTS} form parts")
    fields, files = {}, {}
    # Tornado reads only lower-case names; media types and their parameters are case-blind.
    normal = f"multipart/form-data; boundary={boundary[1]}"
    try:  # tornado 6.2 logs bad form data and returns nothing; later versions raise
        httputil.parse_body_arguments(normal, body, fields, files, **_parser_limits())
    except httputil.HTTPInputError as error:
        raise InboundParseError(str(error).replace(_INVALID * 2, _INVALID)) from None
    if not fields and not files:
        raise InboundParseError("the form data could not be read")
    return fields, files


def _parser_limits():
    """Tornado 6.5.5 and later cap form parts (100 by default, fewer than real mail has)."""
    try:
        from tornado.httputil import ParseBodyConfig, ParseMultipartConfig
    except ImportError:  # tornado 6.2 (Debian bookworm): no cap but ours
        return {}
    return {"config": ParseBodyConfig(multipart=ParseMultipartConfig(
        max_parts=MAX_FORM_PARTS + 1, max_part_header_size=MAX_PART_HEADER_BYTES))}


def _text(fields, name, charsets):
    """A text field, decoded as its charset says (or as it best reads); None when absent."""
    if name not in fields:
        return None
    return _decoded(fields[name][0], charsets.get(name))


def _decoded(data, charset):
    """``data`` as text, whatever charset the post names: a sender's Content-Type names it, and
    Python codecs such as 'idna' or 'punycode' raise even with errors='replace'."""
    try:
        return decode_text(data, charset)
    except (UnicodeError, LookupError):
        return decode_text(data)


def _json_object(fields, name, default):
    if name not in fields:
        return default
    try:
        value = json.loads(fields[name][0])
    except (UnicodeDecodeError, ValueError):
        raise InboundParseError(f"the '{name}' field is not JSON") from None
    if not isinstance(value, dict):
        raise InboundParseError(f"the '{name}' field is not a JSON object")
    return value


def _envelope(fields, raw):
    envelope = _json_object(fields, "envelope", {})
    recipients, mail_from = envelope.get("to") or [], envelope.get("from")
    mail_from = "" if mail_from is None else mail_from
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise InboundParseError("the envelope's 'to' must be a list of addresses")
    if not isinstance(mail_from, str):
        raise InboundParseError("the envelope's 'from' must be an address")
    if not recipients:  # no envelope: fall back on the message's own recipients
        header = BytesHeaderParser(policy=policies.PARSING).parsebytes(header_block(raw))
        recipients = [address for _, address in headers.addresses(header.get_all("to", []) + header.get_all("cc", []))]
    return mail_from, [r for r in recipients if r]


def _reassemble(fields, files, charsets):
    """Rebuild a MIME message from parsed-mode fields: the original headers, then our body."""
    if "headers" not in fields:
        raise InboundParseError("the post has neither an 'email' field (raw mode) nor 'headers' (parsed mode)")
    try:
        rebuilt = _body(fields, files, charsets)
    except InboundParseError:
        raise
    except (ValueError, TypeError, LookupError) as error:  # the email package refused a piece
        raise InboundParseError(f"the parsed-mode fields do not make a message: {error}") from None
    return _kept_headers(fields["headers"][0], charsets.get("headers")) + rebuilt


def _body(fields, files, charsets):
    """The MIME body (with its own Content-Type) of a parsed-mode post: text, HTML, attachments."""
    info = _json_object(fields, "attachment-info", {})
    body = EmailMessage(policy=policies.CREATING)
    body.set_content(_text(fields, "text", charsets) or "")
    html = _text(fields, "html", charsets)
    if html:
        body.add_alternative(html, subtype="html")
    attached = [(name, upload) for name, uploads in sorted(files.items(), key=_attachment_order) for upload in uploads]
    if len(attached) > MAX_ATTACHMENTS:
        raise InboundParseError(f"the post has more than {MAX_ATTACHMENTS} attachments")
    content_ids = {key: cid for cid, key in _json_object(fields, "content-ids", {}).items() if isinstance(key, str)}
    for name, upload in attached:
        described = _attachment_info(info, name)
        if "content-id" not in described and isinstance(content_ids.get(name), str):
            described = dict(described, **{"content-id": content_ids[name]})
        _attach(body, upload, described)
    _fix_boundaries(body, hashlib.sha256(_digest_basis(fields, files)).hexdigest()[:40])
    return body.as_bytes()


def _kept_headers(block, charset):
    """The original header lines, structure headers left out, 8-bit text as UTF-8 (the charset
    the post names, else as each line best reads: UTF-8, then cp1252), line ends CRLF."""
    kept, keeping = [], True
    for line in re.split(rb"\r\n|\r|\n", header_block(block.lstrip(b"\r\n"))):
        if not line.strip():
            continue
        if not line.isascii():
            line = _decoded(line, charset).encode("utf-8")
        if _HEADER_START.match(line):
            keeping = line.split(b":", 1)[0].strip().lower() not in STRUCTURE_HEADERS
        elif line[:1] not in b" \t":
            line = b" " + line  # a broken fold: it continues the field before it
        if keeping:
            kept.append(line + b"\r\n")
    return b"".join(kept)


def _attachment_order(item):
    """attachment1, attachment2, ..., attachment10: in number order, as SendGrid numbers them."""
    name = item[0]
    digits = name[len(name.rstrip("0123456789")):]
    return (int(digits) if digits else 0, name)


def _attachment_info(info, name):
    described = info.get(name) or {}
    if not isinstance(described, dict) or not all(isinstance(value, str) for value in described.values()):
        raise InboundParseError(f"'attachment-info' must describe {name} with text fields")
    return described


def _attach(message, upload, info):
    declared = parts.file_type(info.get("type") or upload["content_type"] or "")
    maintype, _, subtype = (declared or "application/octet-stream").partition("/")
    filename = _one_line(info.get("filename") or upload["filename"])[:MAX_FILENAME_CHARS] or "attachment"
    content_id = "".join(_one_line(info.get("content-id")).strip("<>").split()) or None
    if maintype == "message":  # its bytes are kept as a file, not re-parsed
        maintype, subtype = "application", "octet-stream"
    message.add_attachment(
        upload["body"], maintype=maintype, subtype=subtype, filename=filename,
        cid=f"<{content_id}>" if content_id else None,
        disposition="inline" if content_id else "attachment")


def _one_line(value):
    """Text fit for a header parameter: no line breaks or control characters, valid UTF-8."""
    text = (value or "").encode("utf-8", "replace").decode("utf-8")
    return " ".join("".join(char if char.isprintable() else " " for char in text).split())


def _digest_basis(fields, files):
    pieces = [name.encode() + b"\0" + value for name, values in sorted(fields.items()) for value in values]
    pieces += [name.encode() + b"\0" + upload["body"] for name, uploads in sorted(files.items()) for upload in uploads]
    return b"\0\0".join(pieces)


def _fix_boundaries(message, seed):
    """Boundaries derived from the post (the email package would draw random ones)."""
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_mp_{seed}_{index}")
