"""Raw MIME (as received) to a MessageRecord plus its attachment bytes.

Every leaf part is either the body (text/plain or text/html not marked as an
attachment; of an alternative only the richest branch) or an attachment;
message/* parts are attachments as a whole. Decoding falls back instead of
raising (see ``headers`` and ``charsets``).
"""

from dataclasses import dataclass
from email.parser import BytesParser

from pouch.records import BODY_HTML, BODY_TEXT, MessageRecord

from . import bodytext, headers, parts, policies
from .charsets import unescape
from .errors import MimeError


@dataclass
class ParsedMessage:
    record: MessageRecord
    blobs: dict[bytes, bytes]  # sha256 digest -> attachment bytes, each once


def parse(raw: bytes, record_id: str) -> ParsedMessage:
    """Convert one received message; raises MimeError only for unusable input."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MimeError(f"a message must be bytes, not {type(raw).__name__}")
    if not bytes(raw).strip():
        raise MimeError("the message is empty")
    try:
        return _converted(BytesParser(policy=policies.PARSING).parsebytes(bytes(raw)), record_id)
    except RecursionError:
        # Parts nested deeper than Python's stack (hostile mail): keep the
        # headers and show the rest as text.
        message = BytesParser(policy=policies.PARSING).parsebytes(bytes(raw), headersonly=True)
        record = _header_fields(message, record_id)
        record.body = unescape(str(message.get_payload())).replace("\r\n", "\n").rstrip()
        return ParsedMessage(record, {})


def _converted(message, record_id):
    record = _header_fields(message, record_id)
    record.body, record.body_type = _body(_body_parts(message))
    blobs = {}
    for index, part in enumerate(_attachment_parts(message), 1):
        attachment, data = parts.attachment(part, index)
        record.attachments.append(attachment)
        blobs.setdefault(attachment.sha256, data)
    return ParsedMessage(record, blobs)


def _header_fields(message, record_id):
    charset = _body_charset(message)

    def address_list(name):
        return headers.addresses(message.get_all(name), charset)

    return MessageRecord(
        id=record_id,
        from_=address_list("from") or address_list("sender"),
        to=address_list("to"),
        cc=address_list("cc"),
        bcc=address_list("bcc"),
        reply_to=address_list("reply-to"),
        subject=headers.decoded(message.get("subject"), charset),
        date=_date(message),
        message_id=headers.first_message_id(message.get("message-id")) or "",
        in_reply_to=headers.first_message_id(message.get("in-reply-to")),
        references=headers.message_ids(" ".join(message.get_all("references") or [])),
    )


def _body_charset(message):
    """The first charset a text part declares: raw 8-bit headers are usually in it."""
    for leaf in parts.leaves(message):
        charset = parts.charset(leaf)
        if charset and leaf.get_content_maintype() == "text":
            return charset
    return None


def _date(message):
    for value in message.get_all("date") or []:
        seconds = headers.date_seconds(value)
        if seconds is not None:
            return seconds
    return headers.received_date(message.get_all("received")) or 0


def _body_parts(part):
    """The leaves that make up the body, in order."""
    if parts.is_container(part):
        chosen = [_body_parts(child) for child in part.get_payload()]
        if part.get_content_subtype() == "alternative":
            return _richest(chosen)
        return [leaf for leaves in chosen for leaf in leaves]
    return [part] if parts.is_body_text(part) else []


def _richest(alternatives):
    # Senders order alternatives from plainest to richest (RFC 2046 5.1.4);
    # some send an empty HTML twin of a real text.
    usable = [leaves for leaves in alternatives if any(parts.content_bytes(leaf).strip() for leaf in leaves)]
    usable = usable or [leaves for leaves in alternatives if leaves]
    with_html = [leaves for leaves in usable if any(parts.is_html(leaf) for leaf in leaves)]
    best = with_html or usable
    return best[-1] if best else []


def _body(body_parts):
    texts = [(parts.is_html(part), parts.text(part)) for part in body_parts]
    # Trailing blank lines carry nothing, and a sender adds them or not at will.
    if not any(is_html for is_html, _ in texts):
        return "\n".join(text for _, text in texts).rstrip(), BODY_TEXT
    html = [text if is_html else bodytext.text_to_html(text) for is_html, text in texts]
    return "\n".join(html).rstrip(), BODY_HTML


def _attachment_parts(message):
    """Every leaf that is not body text; dropped alternatives are not attachments."""
    for leaf in parts.leaves(message):
        if not parts.is_body_text(leaf):
            yield leaf
