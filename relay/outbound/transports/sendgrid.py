"""SendGrid v3 Mail Send through the ``sendgrid`` library.

SendGrid writes the MIME itself, so what mail clients thread on is handed over in the body's
``headers``: the same Date, Message-ID, In-Reply-To and References the MIME of the other
transports carries (pouch.mime.build.identity_headers). SendGrid documents that values there
are strings, encoded when not ASCII, and that some names are its own (RESERVED_HEADERS);
identity ids cannot be encoded, so one that is not ASCII is left to SendGrid.
"""

import base64
import socket
import urllib.error

import sendgrid
from python_http_client import exceptions as http_errors

from pouch import mime
from pouch.mime import parts
from pouch.mime.build import identity_headers
from pouch.records import BODY_HTML

from .base import PermanentFailure, TemporaryFailure, Transport, reply_text

# Mail Send's reference: "You may not override the following headers".
RESERVED_HEADERS = frozenset({"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
                              "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"})


class SendGridTransport(Transport):
    def __init__(self, config):
        self.client = sendgrid.SendGridAPIClient(api_key=config.sendgrid_api_key, host=config.sendgrid_host)
        self.client.client.timeout = config.timeout_s
        self.timeout_s = config.timeout_s

    @classmethod
    def from_settings(cls, settings):
        if not settings.outbound.sendgrid_api_key:
            raise ValueError("[outbound] transport = sendgrid needs sendgrid_api_key")
        return cls(settings.outbound)

    def send(self, message):
        body = mail_send_body(message.record, message.blobs, {address.lower() for address in message.recipients})
        try:
            self.client.send(body)
        except http_errors.HTTPError as error:
            reason = f"SendGrid {error.status_code}: {reply_text(error.body)[:500]}"
            if error.status_code == 429 or error.status_code >= 500:
                raise TemporaryFailure(reason) from None
            raise PermanentFailure(reason) from None
        except (urllib.error.URLError, socket.timeout, OSError) as error:
            raise TemporaryFailure(f"SendGrid cannot be reached: {error}") from None
        return ""


def mail_send_body(record, blobs, remote):
    """The v3 Mail Send request for ``record``, addressed to the ``remote`` addresses only."""
    if not record.from_:
        raise PermanentFailure("it has no From address, which SendGrid needs")
    body = {
        "personalizations": _personalizations(record, remote),
        "from": _address(record.from_[0]),
        "subject": record.subject or "(no subject)",
        "content": [{"type": "text/html" if record.body_type == BODY_HTML else "text/plain",
                     "value": record.body or " "}],
    }
    identity = headers(record)
    if identity:
        body["headers"] = identity
    if record.reply_to:
        body["reply_to"] = _address(record.reply_to[0])
    attachments = [_attachment(a, blobs) for a in record.attachments]
    if attachments:
        body["attachments"] = attachments
    return body


def headers(record):
    """The body's ``headers``: the message's identity, in the shape SendGrid documents."""
    return {name: value for name, value in identity_headers(record)
            if name.lower() not in RESERVED_HEADERS and value.isascii()}


def _personalizations(record, remote):
    personalization, seen = {}, set()
    for field, addresses in (("to", record.to), ("cc", record.cc), ("bcc", record.bcc)):
        unique = []
        for name, email in addresses:
            if email.lower() in remote and email.lower() not in seen:  # SendGrid refuses repeats
                seen.add(email.lower())
                unique.append(_address((name, email)))
        if unique:
            personalization[field] = unique
    if "to" in personalization:
        return [personalization]
    # SendGrid needs a "to": without one, each copy goes to one recipient, who sees no other.
    return [{"to": [address]} for address in personalization.get("cc", []) + personalization.get("bcc", [])]


def _address(address):
    name, email = address
    return {"email": email, "name": name} if name else {"email": email}


def _attachment(attachment, blobs):
    if attachment.sha256 not in blobs:  # as the MIME builder: never send it without its attachment
        raise mime.MimeError(f"attachment {attachment.name!r}: blob {attachment.sha256.hex()} is missing")
    item = {
        "content": base64.b64encode(blobs[attachment.sha256]).decode("ascii"),
        # Typed and named as the MIME builder would (a box's record may carry a type that is none).
        "filename": parts.safe_name(attachment.name) or "attachment",
        "type": parts.file_type(attachment.type) or "application/octet-stream",
        # SendGrid takes "inline" only with a content_id; an inline part without one (Apple Mail
        # writes them) goes as an attachment, as a mail client would show it.
        "disposition": "inline" if attachment.cid else "attachment",
    }
    if attachment.cid:
        item["content_id"] = attachment.cid
    return item
