"""Raw MIME (as received) to a MessageRecord plus its attachment bytes.

Every leaf part is either the body (text/plain or text/html not marked as an
attachment; of an alternative only the richest branch) or an attachment;
message/* parts are attachments as a whole. Decoding falls back instead of
raising (see ``headers`` and ``charsets``). HTML bodies travel as the box
would show them (``pouch.html``), References trimmed: the relay keeps the raw MIME.
"""

from dataclasses import dataclass
from email.parser import BytesParser

from pouch.html import MarkupTooDeep, reduce_html
from pouch.records import BODY_HTML, BODY_TEXT, MessageRecord

from . import bodytext, headers, parts, policies
from .charsets import unescape
from .errors import MimeError


@dataclass
class ParsedMessage:
    record: MessageRecord
    blobs: dict[bytes, bytes]  # sha256 digest -> attachment bytes, each once


def parse(raw: bytes, record_id: str, *, reduced: bool = True) -> ParsedMessage:
    """Convert one received message; raises MimeError only for unusable input.

    ``reduced`` False keeps HTML bodies and References as they were sent, for
    measuring what reducing them saves."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MimeError(f"a message must be bytes, not {type(raw).__name__}")
    if not bytes(raw).strip():
        raise MimeError("the message is empty")
    try:
        return _converted(BytesParser(policy=policies.PARSING).parsebytes(bytes(raw)), record_id, reduced)
    except RecursionError:
        # Parts nested deeper than Python's stack (hostile mail): keep the
        # headers and show the rest as text.
        message = BytesParser(policy=policies.PARSING).parsebytes(bytes(raw), headersonly=True)
        record = _header_fields(message, record_id)
        record.body = unescape(str(message.get_payload())).replace("\r\n", "\n").rstrip()
        return ParsedMessage(record, {})


def _converted(message, record_id, reduced):
    record = _header_fields(message, record_id, reduced)
    record.body, record.body_type = _body(_body_parts(message, reduced), reduced)
    blobs = {}
    for index, part in enumerate(_attachment_parts(message), 1):
        attachment, data = parts.attachment(part, index)
        record.attachments.append(attachment)
        blobs.setdefault(attachment.sha256, data)
    return ParsedMessage(record, blobs)


def _header_fields(message, record_id, reduced=True):
    charset = _body_charset(message)

    def address_list(name):
        return headers.addresses(message.get_all(name), charset)

    senders = address_list("from") or address_list("sender")
    return MessageRecord(
        id=record_id,
        from_=senders,
        to=address_list("to"),
        cc=address_list("cc"),
        bcc=address_list("bcc"),
        reply_to=address_list("reply-to"),
        subject=headers.decoded(message.get("subject"), charset),
        date=_date(message),
        message_id=headers.first_message_id(message.get("message-id")) or "",
        in_reply_to=headers.first_message_id(message.get("in-reply-to")),
        references=_references(message, reduced),
        automatic=_automatic(message, senders),
    )


AUTOMATIC_SENDERS = ("mailer-daemon", "postmaster")


def _automatic(message, senders):
    """Mail no person wrote (RFC 3834 Auto-Submitted, RFC 6522 reports, bounces): it must not
    be threaded by its subject alone."""
    auto_submitted = str(message.get("auto-submitted") or "no").split(";")[0].strip().lower()
    return (auto_submitted != "no" or message.get_content_type() == "multipart/report"
            or any(email.split("@")[0].lower() in AUTOMATIC_SENDERS for _name, email in senders))


def _references(message, reduced):
    ids = headers.message_ids(" ".join(message.get_all("references") or []))
    return trimmed_references(ids) if reduced else ids


def trimmed_references(ids: list) -> list:
    """The first id (the thread's start) and the last three (the nearest ancestors), as
    RFC 5537 3.4.4 trims References: enough for the box to find the thread."""
    return ids if len(ids) <= 4 else [ids[0], *ids[-3:]]


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


def _body_parts(part, reduced):
    """The texts that make up the body, in order, as (is HTML, text)."""
    if parts.is_container(part):
        chosen = [_body_parts(child, reduced) for child in part.get_payload()]
        if part.get_content_subtype() == "alternative":
            return _richest(chosen)
        return [text for texts in chosen for text in texts]
    return [_body_text(part, reduced)] if parts.is_body_text(part) else []


def _body_text(part, reduced):
    text = parts.text(part)
    if parts.is_html(part):
        return True, _reduced(text) if reduced else text
    return False, text


def _reduced(html):
    try:
        return reduce_html(html)
    except MarkupTooDeep:  # hostile nesting: its text, shown as it is, is all that can be read
        return bodytext.text_to_html(bodytext.html_to_text(html))


def _richest(alternatives):
    # Senders order alternatives from plainest to richest (RFC 2046 5.1.4);
    # some send an HTML twin that shows nothing next to a real text.
    usable = [texts for texts in alternatives if any(text.strip() for _, text in texts)]
    usable = usable or [texts for texts in alternatives if texts]
    with_html = [texts for texts in usable if any(is_html for is_html, _ in texts)]
    best = with_html or usable
    return best[-1] if best else []


def _body(texts, reduced):
    # Trailing blank lines carry nothing, and a sender adds them or not at will.
    if not any(is_html for is_html, _ in texts):
        return "\n".join(text for _, text in texts).rstrip(), BODY_TEXT
    html = [text if is_html else bodytext.text_to_html(text) for is_html, text in texts]
    joined = "\n".join(html)
    if len(html) > 1 and reduced:
        # Reduced once more as the one HTML part it becomes when the box sends it on.
        joined = _reduced(joined)
    return joined.rstrip(), BODY_HTML


def _attachment_parts(message):
    """Every leaf that is not body text; dropped alternatives are not attachments."""
    for leaf in parts.leaves(message):
        if not parts.is_body_text(leaf):
            yield leaf
