"""SendGrid Inbound Parse posts: the raw MIME and envelope recipients of one message.

Raw mode sends the whole message in the ``email`` field.  Parsed mode sends
its pieces (``headers``, ``text``, ``html``, files ``attachment1..N`` described
by ``attachment-info``, field charsets in ``charsets``); the message is put
back together from them.
"""

import email.policy
import json
import logging
import re
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from tornado import httputil

log = logging.getLogger(__name__)

# Headers that describe the original body's structure: the rebuilt message has its own.
STRUCTURE_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}
MAX_RECIPIENTS = 1000


class InboundParseError(ValueError):
    """The post is not a usable Inbound Parse payload."""


def read_post(content_type, body):
    """(raw MIME bytes, envelope sender, [envelope recipients]) of one Inbound Parse post."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise InboundParseError("expected multipart/form-data, as SendGrid posts")
    fields, files = {}, {}
    try:  # tornado 6.2 logs bad form data and returns nothing; later versions raise
        httputil.parse_body_arguments(content_type, body, fields, files)
    except httputil.HTTPInputError as error:
        raise InboundParseError(str(error)) from None
    if not fields and not files:
        raise InboundParseError("the form data could not be read")
    charsets = _json_field(fields, "charsets") or {}
    text = {name: _decode(values[0], charsets.get(name)) for name, values in fields.items()}
    raw = fields["email"][0] if "email" in fields else _reassemble(text, files)
    mail_from, recipients = _envelope(text, raw)
    if not recipients:
        raise InboundParseError("the post names no recipient")
    if len(recipients) > MAX_RECIPIENTS:
        raise InboundParseError(f"the post names more than {MAX_RECIPIENTS} recipients")
    return raw, mail_from, recipients


def _decode(value, charset):
    try:
        return value.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return value.decode("utf-8", errors="replace")


def _json_field(fields, name):
    if name not in fields:
        return None
    try:
        value = json.loads(fields[name][0])
    except (UnicodeDecodeError, ValueError):
        raise InboundParseError(f"the '{name}' field is not JSON") from None
    return value if isinstance(value, dict) else None


def _envelope(text, raw):
    envelope = json.loads(text["envelope"]) if _is_json_object(text.get("envelope")) else {}
    recipients = envelope.get("to") or []
    if isinstance(recipients, str):
        recipients = [recipients]
    if not recipients:  # no envelope: fall back on the message's own recipients
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        recipients = [address for _, address in getaddresses(
            headers.get_all("to", []) + headers.get_all("cc", []))]
    return str(envelope.get("from") or ""), [str(r) for r in recipients if r]


def _is_json_object(value):
    try:
        return isinstance(json.loads(value), dict)
    except (TypeError, ValueError):
        return False


def _reassemble(text, files):
    """Rebuild a MIME message from parsed-mode fields."""
    if "headers" not in text:
        raise InboundParseError("the post has neither an 'email' field (raw mode) nor 'headers' (parsed mode)")
    original = BytesHeaderParser(policy=email.policy.compat32).parsebytes(
        text["headers"].encode("utf-8", errors="replace"))
    message = EmailMessage()
    for name, value in original.items():
        if name.lower() not in STRUCTURE_HEADERS:
            _copy_header(message, name, value)
    message.set_content(text.get("text") or "")
    if text.get("html"):
        message.add_alternative(text["html"], subtype="html")
    info = json.loads(text["attachment-info"]) if _is_json_object(text.get("attachment-info")) else {}
    for field_name, uploads in sorted(files.items()):
        for upload in uploads:
            _attach(message, upload, info.get(field_name) or {})
    try:
        return message.as_bytes(policy=email.policy.SMTP)
    except (ValueError, TypeError, LookupError) as error:
        raise InboundParseError(f"the parsed-mode fields do not make a message: {error}") from None


def _copy_header(message, name, value):
    unfolded = re.sub(r"\r?\n[ \t]*", " ", str(value))
    try:
        message[name] = unfolded
    except (ValueError, TypeError, IndexError):  # a header the email package cannot hold: dropped
        log.warning("parsed-mode header dropped name=%r", name[:100])


def _attach(message, upload, info):
    maintype, _, subtype = (info.get("type") or upload["content_type"] or "application/octet-stream").partition("/")
    filename = info.get("filename") or upload["filename"] or "attachment"
    content_id = info.get("content-id")
    message.add_attachment(
        upload["body"], maintype=maintype, subtype=subtype or "octet-stream", filename=filename,
        cid=f"<{content_id}>" if content_id else None,
        disposition="inline" if content_id else "attachment")
