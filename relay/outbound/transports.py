"""Ways to hand a message to the internet: SendGrid v3 Mail Send, SMTP, a folder.

Every transport raises TemporaryFailure (worth retrying later: 429, 5xx,
4xx SMTP replies, a peer that cannot be reached) or PermanentFailure
(retrying cannot help); anything else it raises is a bug and counts as
permanent.  ``send`` blocks: the worker runs it in a thread.
"""

import base64
import os
import re
import smtplib
import socket
import ssl
import urllib.error
from pathlib import Path

import sendgrid
from python_http_client import exceptions as http_errors

from pouch import mime
from pouch.records import BODY_HTML


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Retrying will not help; the box is told why."""


class FolderTransport:
    """Writes each message as an .eml file: for local setups and demonstrations."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def send(self, record, blobs, recipients, key):
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".eml")
        partial = path.with_suffix(".partial")
        partial.write_bytes(mime.build(record, blobs))
        os.replace(partial, path)


class SmtpTransport:
    def __init__(self, config):
        self.config = config

    def send(self, record, blobs, recipients, key):
        config = self.config
        login = (lambda smtp: smtp.login(config.smtp_user, config.smtp_password)) if config.smtp_user else None
        sender = record.from_[0][1] if record.from_ else ""
        # context None: smtplib's own, which does not check the operator's relay's certificate
        return smtp_send(mime.build(record, blobs), sender, recipients, config.smtp_host, config.smtp_port,
                         "starttls" if config.smtp_starttls else "none", config.timeout_s, login=login)


def smtp_send(raw, sender, recipients, host, port, security, timeout_s, login=None, context=None):
    """Hand ``raw`` to an SMTP server; returns a note on recipients it did not accept.

    ``security``: "tls" (from the start), "starttls" or "none"; ``login(smtp)`` authenticates.
    Raises TemporaryFailure or PermanentFailure, with a reason for people.
    """
    where = f"the SMTP server {host}:{port}"
    try:
        if security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout_s)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if login is not None:
                login(smtp)
            refused = smtp.sendmail(sender, recipients, raw)
    except smtplib.SMTPAuthenticationError as error:
        raise PermanentFailure(f"{where} refused the user name or password "
                               f"({error.smtp_code} {_text(error.smtp_error)})") from None
    except smtplib.SMTPNotSupportedError as error:
        raise PermanentFailure(f"{where} cannot do this ({error}); check the account's SMTP settings") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise _by_code(min(code for code, _ in error.recipients.values()),
                       f"all recipients refused: {_replies(error.recipients)}") from None
    except smtplib.SMTPResponseException as error:
        raise _by_code(error.smtp_code, f"SMTP {error.smtp_code} {_text(error.smtp_error)}") from None
    except ssl.SSLCertVerificationError as error:
        raise PermanentFailure(f"the certificate of {where} could not be verified ({error.verify_message})") from None
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"{where}: {error}") from None
    if refused:
        return f"not accepted for {_replies(refused)}"
    return ""


def _by_code(code, reason):
    return TemporaryFailure(reason) if 400 <= code < 500 else PermanentFailure(reason)


def _text(reply):
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _replies(refused):
    return "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in refused.items())


class SendGridTransport:
    """SendGrid v3 Mail Send through the ``sendgrid`` library."""

    def __init__(self, config):
        self.client = sendgrid.SendGridAPIClient(api_key=config.sendgrid_api_key,
                                                 host=config.sendgrid_host)
        self.client.client.timeout = config.timeout_s

    def send(self, record, blobs, recipients, key):
        body = mail_send_body(record, blobs, {address.lower() for address in recipients})
        try:
            self.client.send(body)
        except http_errors.HTTPError as error:
            reason = f"SendGrid {error.status_code}: {_text(error.body)[:500]}"
            if error.status_code == 429 or error.status_code >= 500:
                raise TemporaryFailure(reason) from None
            raise PermanentFailure(reason) from None
        except (urllib.error.URLError, socket.timeout, OSError) as error:
            raise TemporaryFailure(f"SendGrid cannot be reached: {error}") from None
        return ""


def mail_send_body(record, blobs, remote):
    """The v3 Mail Send request for ``record``, addressed to the ``remote`` addresses only."""
    body = {
        "personalizations": _personalizations(record, remote),
        "from": _address(record.from_[0]),
        "subject": record.subject or "(no subject)",
        "content": [{"type": "text/html" if record.body_type == BODY_HTML else "text/plain",
                     "value": record.body or " "}],
    }
    if record.reply_to:
        body["reply_to"] = _address(record.reply_to[0])
    headers = _thread_headers(record)
    if headers:
        body["headers"] = headers
    attachments = [_attachment(a, blobs) for a in record.attachments if a.sha256 in blobs]
    if attachments:
        body["attachments"] = attachments
    return body


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


def _thread_headers(record):
    headers = {}
    if record.in_reply_to:
        headers["In-Reply-To"] = f"<{record.in_reply_to}>"
    if record.references:
        headers["References"] = " ".join(f"<{ref}>" for ref in record.references)
    return headers


def _attachment(attachment, blobs):
    item = {
        "content": base64.b64encode(blobs[attachment.sha256]).decode("ascii"),
        "filename": attachment.name or "attachment",
        "type": attachment.type or "application/octet-stream",
        "disposition": "inline" if attachment.inline or attachment.cid else "attachment",
    }
    if attachment.cid:
        item["content_id"] = attachment.cid
    return item


def make_transport(settings):
    """The transport named by the [outbound] settings."""
    config = settings.outbound
    if config.transport == "folder":
        return FolderTransport(settings.sent_folder)
    if config.transport == "smtp":
        return SmtpTransport(config)
    if config.transport == "sendgrid":
        if not config.sendgrid_api_key:
            raise ValueError("[outbound] transport = sendgrid needs sendgrid_api_key")
        return SendGridTransport(config)
    raise ValueError(f"[outbound] transport '{config.transport}' is not folder, smtp or sendgrid")
