"""What the box gets in place of an account's message the relay will not bring over."""

import email.errors
import email.header
import email.policy
from email.message import EmailMessage

MB = 1024 * 1024


def too_big(meta, address, limit):
    """A short message standing in for ``meta``'s, over ``limit`` bytes: same sender, subject, date
    and Message-ID (so replies thread), saying where the original still is."""
    notice = EmailMessage()
    notice["From"] = _readable(meta.sender) or address
    notice["To"] = address
    notice["Subject"] = _readable(meta.subject) or "(no subject)"
    if meta.date:
        try:
            notice["Date"] = _readable(meta.date)
        except (ValueError, TypeError):  # a date nobody can read: the box shows the arrival time
            del notice["Date"]
    if meta.message_id:
        notice["Message-ID"] = f"<{meta.message_id}>"
    notice.set_content(
        f"This message is {_size(meta.size)}, more than the {_size(limit)} the relay brings "
        f"to the box, so it was not brought over.\n\nIt is still in {address}: read it with another "
        "mail program or the provider's web mail, on a better connection.\n")
    return notice.as_bytes(policy=email.policy.SMTP)


def _readable(value):
    """A header value decoded from RFC 2047 and stray bytes, on one line."""
    try:
        text = str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, email.errors.HeaderParseError):
        text = value
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(text.split())


def _size(size):
    return f"{size / MB:.1f} MB" if size >= MB else f"{max(1, round(size / 1024))} KB"
