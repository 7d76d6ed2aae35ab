"""Webhook bodies as SendGrid's Inbound Parse posts them, from raw MIME.

Raw mode ("POST the raw, full MIME message"): the message in ``email``, the
SMTP envelope as JSON in ``envelope``.  Parsed mode, per SendGrid's list of
default parameters: ``headers`` (the raw header block), ``text`` and ``html``
(the bodies, in their own charsets, named in the ``charsets`` JSON map),
``from``/``to``/``cc``/``subject``, ``envelope``, ``attachments`` (their count)
with one file part ``attachment1..N`` each, described in ``attachment-info``
(``filename``, ``name``, ``type``, ``content-id``), inline ones also in
``content-ids`` ({content id: attachment key}), and the verification fields
(``dkim``, ``SPF``, ``sender_ip``, ``spam_score``).

    fields = raw_fields(raw, ["marie@goma.relay.test"])
    fields, files = parsed_fields(raw, ["marie@goma.relay.test"])
    body, content_type = multipart(fields, files)   # tests.relay.conftest
"""

import email
import email.policy
import json
import re

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_UNSAFE_IN_QUOTES = re.compile(r'["\r\n\\]')


def envelope(to, sender="ami@example.org"):
    return json.dumps({"to": list(to), "from": sender})


def raw_fields(raw, to, sender="ami@example.org"):
    return {"email": raw, "envelope": envelope(to, sender)}


def header_block(raw):
    """The message's header block as it came (up to the blank line)."""
    found = _BLANK_LINE.search(raw)
    return raw[:found.start()] + b"\r\n" if found else raw


def parsed_fields(raw, to, sender="ami@example.org"):
    """(fields, files) of the parsed-mode post SendGrid makes of ``raw`` for envelope ``to``."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    fields = {"headers": header_block(raw), "envelope": envelope(to, sender),
              "dkim": "{@example.org : pass}", "SPF": "pass", "sender_ip": "192.0.2.1", "spam_score": "0.1"}
    charsets = {}
    for name in ("from", "to", "cc", "subject"):
        if message.get(name) is not None:
            fields[name] = _header_bytes(message, name)
            charsets[name] = "UTF-8"
    files, info, content_ids = {}, {}, {}
    for part in _leaves(message):
        kind = _body_kind(part, fields)
        if kind:
            fields[kind] = _payload(part)
            charsets[kind] = part.get_content_charset() or "us-ascii"
            continue
        key = f"attachment{len(files) + 1}"
        filename = _text(part.get_filename()) or "attachment"
        content_type = _content_type(part)
        files[key] = (_UNSAFE_IN_QUOTES.sub("_", filename), content_type, _payload(part))
        info[key] = {"filename": filename, "name": filename, "type": content_type}
        content_id = _text(part.get("content-id")).strip().strip("<>")
        if content_id:
            info[key]["content-id"] = content_id
            content_ids[content_id] = key
    fields.update({"charsets": json.dumps(charsets), "attachments": str(len(files))})
    if files:
        fields["attachment-info"] = json.dumps(info)
    if content_ids:
        fields["content-ids"] = json.dumps(content_ids)
    return fields, files


def _text(value):
    """A header value as valid text (compat32 keeps 8-bit bytes as surrogates)."""
    return str(value or "").encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _header_bytes(message, name):
    return str(message.get(name)).encode("utf-8", "surrogateescape")


def _leaves(part):
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for child in part.get_payload():
            yield from _leaves(child)
    else:  # a leaf, or a message/* part: attached as a whole
        yield part


def _body_kind(part, fields):
    """'text' or 'html' for the first plain and HTML bodies that are not attachments."""
    if part.get_content_maintype() != "text" or part.get_filename() or \
            str(part.get("content-disposition", "")).lower().startswith("attachment"):
        return None
    kind = {"plain": "text", "html": "html"}.get(part.get_content_subtype())
    return kind if kind and kind not in fields else None


def _content_type(part):
    maintype = part.get_content_maintype()
    return "application/octet-stream" if maintype == "multipart" else part.get_content_type()


def _payload(part):
    if part.is_multipart():  # message/rfc822: its bytes as a file
        try:
            return part.get_payload(0).as_bytes()
        except (IndexError, TypeError, ValueError, LookupError):
            return b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""
