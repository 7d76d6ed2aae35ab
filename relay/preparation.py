"""Converting stored inbound mail to records in the background, ahead of any sync.

A box's sync waits while its pending mail is packed, with the modem online;
MIME parsing is the slow part of packing, so it is done here as mail arrives.
Conversion is deterministic, so two processes preparing the same message
would only waste work; PostgreSQL's SKIP LOCKED keeps them apart.
"""

import hashlib
import time

import sqlalchemy as sa

from pouch import mime
from pouch.records import Attachment, MessageRecord
from relay import payload
from relay.schema import inbound


def message_record(raw, record_id, mail_from):
    """The record and blobs of one received message; unreadable mail travels as an attachment."""
    try:
        parsed = mime.parse(raw, record_id)
        return parsed.record, parsed.blobs
    except mime.MimeError as error:
        digest = hashlib.sha256(raw).digest()
        record = MessageRecord(
            id=record_id, from_=[("", mail_from)], subject="(a message that could not be read)",
            body=f"The relay received this message but could not read it ({error}); "
                 "the original is attached.",
            attachments=[Attachment("original.eml", "message/rfc822", len(raw), digest)])
        return record, {digest: raw}


def prepare(raw, inbound_id, mail_from):
    """The prepared payload of one inbound message."""
    return payload.pack(*message_record(raw, str(inbound_id), mail_from))


def prepare_some(engine, limit=20):
    """Prepare up to ``limit`` inbound messages; returns how many."""
    due = (sa.select(inbound.c.id, inbound.c.raw, inbound.c.mail_from)
           .where(inbound.c.prepared_at.is_(None), inbound.c.cleared_at.is_(None)).order_by(inbound.c.id).limit(limit)
           .with_for_update(skip_locked=True))
    with engine.begin() as db:
        rows = db.execute(due).all()
        # Parse before the first write: SQLite's write lock is then held only for the updates.
        prepared = [(row.id, prepare(row.raw, row.id, row.mail_from)) for row in rows]
        for inbound_id, data in prepared:
            # Not over mail that relay.retention cleared meanwhile (SQLite has no row locks).
            db.execute(inbound.update().where(inbound.c.id == inbound_id, inbound.c.cleared_at.is_(None)).values(
                prepared=data, prepared_at=int(time.time())))
    return len(rows)
