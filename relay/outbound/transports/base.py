"""What every transport is: one message in, sent or an exception that says whether to retry.

``Transport.send(message)`` blocks (the worker runs it in a thread) and returns a note for
the box ("" when every recipient was accepted), or raises:

- TemporaryFailure: worth retrying later (429, 5xx, 4xx SMTP replies, a peer that cannot be
  reached); the worker retries with backoff, then gives up with the last reason.
- PermanentFailure: retrying cannot help; the reason goes back to the box as is.

Anything else a transport raises is a bug or a record it cannot express: the worker fails
that one message, permanently, and goes on with the others (relay.outbound.worker).
"""

from dataclasses import dataclass

from pouch.records import MessageRecord


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Retrying will not help; the box is told why."""


@dataclass(frozen=True)
class Outgoing:
    """One message to hand to the internet, as the box wrote it."""

    box_id: int
    record: MessageRecord
    blobs: dict  # sha256 -> bytes of its attachments
    recipients: list  # the internet addresses this relay sends it to (Bcc included)

    @property
    def key(self):
        """Unique per message on this relay, safe as a file name part."""
        return f"{self.box_id}-{self.record.id}"

    @property
    def sender(self):
        return self.record.from_[0][1] if self.record.from_ else ""


class Transport:
    """One way out. ``timeout_s``: the longest one send may take, so the worker's claim on the
    message outlives it."""

    timeout_s = 60.0

    @classmethod
    def from_settings(cls, settings):
        """The transport as the relay's settings configure it."""
        raise NotImplementedError

    def send(self, message: Outgoing) -> str:
        raise NotImplementedError


def reply_text(reply):
    """A peer's reply (bytes or not) as text for people."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
