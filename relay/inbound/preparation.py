"""Converting stored inbound mail to records in the background, ahead of any sync.

A box's sync waits while its pending mail is packed, with the modem online;
MIME parsing is the slow part of packing, so it is done here as mail arrives.
Conversion is deterministic, so two processes preparing the same message
would only waste work; PostgreSQL's SKIP LOCKED keeps them apart.

A message whose conversion raises is set aside (relay.quarantine) and the rest
of the batch goes on.
"""

import hashlib
import time

import sqlalchemy as sa

from pouch import mime
from pouch.records import Attachment, MessageRecord
from relay import payload, quarantine
from relay.inbound.photos import shrink_photos
from relay.schema import inbound


def message_record(raw, record_id, mail_from, received_at):
    """The record and blobs of one received message; unreadable mail travels as an attachment.
    Mail without a usable date (no Date or Received header that reads) is dated its arrival.
    Big photos are shrunk (relay.inbound.photos), their originals kept in ``blobs``."""
    try:
        parsed = mime.parse(raw, record_id)
        record, blobs = parsed.record, parsed.blobs
    except mime.MimeError as error:
        digest = hashlib.sha256(raw).digest()
        record = MessageRecord(
            id=record_id, from_=[("", mail_from)], subject="(a message that could not be read)",
            body=f"The relay received this message but could not read it ({error}); "
                 "the original is attached.",
            attachments=[Attachment("original.eml", "message/rfc822", len(raw), digest)])
        blobs = {digest: raw}
    record.date = record.date or received_at
    shrink_photos(record, blobs)
    return record, blobs


def prepare(raw, inbound_id, mail_from, received_at):
    """The prepared payload of one inbound message."""
    return payload.pack(*message_record(raw, str(inbound_id), mail_from, received_at))


def prepare_some(engine, limit=20):
    """Prepare up to ``limit`` inbound messages, setting aside those that fail; returns how many."""
    due = (sa.select(inbound.c.id, inbound.c.raw, inbound.c.mail_from, inbound.c.received_at)
           .where(inbound.c.prepared_at.is_(None), inbound.c.cleared_at.is_(None),
                  inbound.c.quarantined_at.is_(None)).order_by(inbound.c.id).limit(limit)
           .with_for_update(skip_locked=True))
    with engine.begin() as db:
        rows = db.execute(due).all()
        # Parse before the first write: SQLite's write lock is then held only for the updates.
        prepared = [(row.id, *_attempt(row)) for row in rows]
        for inbound_id, data, failure in prepared:
            if failure:
                quarantine.set_aside_inbound(db, inbound_id, failure)
                continue
            # Not over mail that relay.retention cleared meanwhile (SQLite has no row locks).
            db.execute(inbound.update().where(inbound.c.id == inbound_id, inbound.c.cleared_at.is_(None)).values(
                prepared=data, prepared_at=int(time.time())))
    return len(rows)


def _attempt(row):
    """(payload, None), or (None, the reason) when converting this one message raised."""
    try:
        return prepare(row.raw, row.id, row.mail_from, row.received_at), None
    except quarantine.NOT_THE_MESSAGES:
        raise
    except Exception as error:  # noqa: BLE001 - whatever else it is, it is this message's: the rest go on
        return None, quarantine.logged(error, "convert", inbound=row.id)
