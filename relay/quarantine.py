"""Mail set aside: a message the relay cannot convert or pack is quarantined with its reason.

One such message never blocks the mail beside it: relay.inbound.preparation and
relay.boxsync.packing catch whatever converting or packing it raises, and mark it
here.  Quarantined mail is not offered to its box again until an operator
retries it (`mailpouch-relay mail retry ID`: prepared again from its raw MIME)
or drops it (`mail drop ID`: done without delivering, its row kept as metadata
so counters never go back).  IDs are inbound message ids; a message for
several boxes has one delivery each.
"""

import email.parser
import logging
import time

import sqlalchemy as sa

from pouch.mime import MimeError
from pouch.container.wire import RecordError
from relay.schema import boxes, deliveries, inbound

log = logging.getLogger(__name__)

REASON_CHARS = 500
# Trouble of the relay's own (its database went away, memory ran out): never a message's fault.
NOT_THE_MESSAGES = (sa.exc.SQLAlchemyError, MemoryError)
# What a bad message can cause; anything else is a bug, and its traceback goes to the log.
EXPECTED = (MimeError, RecordError, ValueError, TypeError, KeyError, UnicodeError)

UNFINISHED = sa.or_(deliveries.c.delivered_at.is_(None),
                    deliveries.c.blobs_later & deliveries.c.blobs_delivered_at.is_(None))
QUARANTINED = sa.and_(deliveries.c.quarantined_at.isnot(None), deliveries.c.dropped_at.is_(None), UNFINISHED)


class MailError(Exception):
    """An operator's command that cannot apply, with the reason."""


def reason(error):
    """The reason shown to operators: the error's kind and message."""
    text = str(error)
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:REASON_CHARS]


def logged(error, step, **where):
    """Log one message set aside (once, where it happens); returns its reason."""
    pairs = " ".join(f"{key}={value}" for key, value in where.items())
    log.warning("mail set aside step=%s %s reason=%r", step, pairs, reason(error),
                exc_info=None if isinstance(error, EXPECTED) else error)
    return reason(error)


def set_aside_inbound(db, inbound_id, why, now=None):
    """Converting ``inbound_id`` failed: it and its deliveries not yet packed wait for an operator."""
    now = int(time.time() if now is None else now)
    db.execute(inbound.update().where(inbound.c.id == inbound_id, inbound.c.quarantined_at.is_(None))
               .values(quarantined_at=now, quarantine_reason=why))
    db.execute(deliveries.update().where(
        deliveries.c.inbound_id == inbound_id, deliveries.c.pouch_name.is_(None),
        deliveries.c.delivered_at.is_(None), deliveries.c.quarantined_at.is_(None))
        .values(quarantined_at=now, quarantine_reason=why))


def set_aside_deliveries(engine, entries, now=None):
    """Packing failed for these (delivery id, column, reason, inbound id or None): ``column`` is
    where the pouch of the failed stage goes (deliveries.c.pouch_name, or blobs_pouch_name for
    big mail's attachments); with an inbound id, the message itself is set aside too."""
    now = int(time.time() if now is None else now)
    with engine.begin() as db:
        for delivery_id, column, why, inbound_id in entries:
            db.execute(deliveries.update().where(
                deliveries.c.id == delivery_id, column.is_(None), deliveries.c.quarantined_at.is_(None))
                .values(quarantined_at=now, quarantine_reason=why))
            if inbound_id is not None:
                set_aside_inbound(db, inbound_id, why, now)


def state(row):
    """What became of one delivery, in a word."""
    if row.dropped_at:
        return "dropped"
    if row.quarantined_at and (row.delivered_at is None or (row.blobs_later and row.blobs_delivered_at is None)):
        return "quarantined"
    if row.delivered_at and not (row.blobs_later and row.blobs_delivered_at is None):
        return "delivered"
    if row.held_at and not row.released_at:
        return "held as spam"  # relay.spam.holding: until its box asks, or retention clears it
    return "offered" if row.pouch_name else "waiting"


def _delivery_rows():
    return (sa.select(deliveries.c.inbound_id.label("id"), deliveries.c.id.label("delivery_id"),
                      boxes.c.name.label("box"), deliveries.c.recipients, inbound.c.received_at,
                      inbound.c.mail_from, inbound.c.size, deliveries.c.pouch_name, deliveries.c.delivered_at,
                      deliveries.c.blobs_later, deliveries.c.blobs_delivered_at, deliveries.c.quarantined_at,
                      deliveries.c.quarantine_reason, deliveries.c.dropped_at, deliveries.c.held_at,
                      deliveries.c.released_at)
            .join(inbound, inbound.c.id == deliveries.c.inbound_id).join(boxes, boxes.c.id == deliveries.c.box_id))


def listing(db, quarantined_only=False, limit=None):
    """Deliveries not done yet (or only the quarantined ones), oldest first."""
    query = _delivery_rows().where(QUARANTINED if quarantined_only else
                                   sa.and_(UNFINISHED, deliveries.c.dropped_at.is_(None)))
    return db.execute(query.order_by(deliveries.c.inbound_id, deliveries.c.id).limit(limit)).all()


def detail(engine, inbound_id):
    """(the inbound row, its headers as [(name, value)], its deliveries); MailError if unknown."""
    with engine.connect() as db:
        message = db.execute(sa.select(inbound.c.id, inbound.c.received_at, inbound.c.source, inbound.c.mail_from,
                                       inbound.c.size, inbound.c.cleared_at, inbound.c.quarantine_reason,
                                       sa.func.substr(inbound.c.raw, 1, 64 * 1024).label("head"))
                             .where(inbound.c.id == inbound_id)).one_or_none()
        if message is None:
            raise MailError(f"no message {inbound_id}")
        rows = db.execute(_delivery_rows().where(deliveries.c.inbound_id == inbound_id)
                          .order_by(deliveries.c.id)).all()
    return message, _headers(message.head), rows


def _headers(head):
    """The headers an operator recognises a message by, from the start of its raw MIME."""
    parsed = email.parser.BytesHeaderParser().parsebytes(bytes(head or b""))
    return [(name, " ".join(str(parsed[name]).split())[:200])
            for name in ("From", "To", "Subject", "Date", "Message-ID") if parsed[name] is not None]


def retry(engine, inbound_id):
    """Put a message's quarantined deliveries back, to be prepared again from its raw MIME and
    offered at the next sync; returns how many."""
    with engine.begin() as db:
        row = db.execute(sa.select(inbound.c.cleared_at).where(inbound.c.id == inbound_id)).one_or_none()
        if row is None:
            raise MailError(f"no message {inbound_id}")
        if row.cleared_at is not None:
            raise MailError(f"message {inbound_id}: its raw MIME was cleared, it cannot be prepared again")
        ids = _quarantined_ids(db, inbound_id)
        if not ids:
            raise MailError(f"message {inbound_id} is not quarantined")
        db.execute(inbound.update().where(inbound.c.id == inbound_id).values(
            prepared=None, prepared_at=None, quarantined_at=None, quarantine_reason=None))
        db.execute(deliveries.update().where(deliveries.c.id.in_(ids)).values(
            quarantined_at=None, quarantine_reason=None))
    return len(ids)


def drop(engine, inbound_id, now=None):
    """Mark a message's quarantined deliveries done without delivering them; returns how many."""
    now = int(time.time() if now is None else now)
    with engine.begin() as db:
        ids = _quarantined_ids(db, inbound_id)
        if not ids:
            raise MailError(f"message {inbound_id} is not quarantined (only quarantined mail is dropped)")
        db.execute(deliveries.update().where(deliveries.c.id.in_(ids)).values(
            dropped_at=now, delivered_at=sa.func.coalesce(deliveries.c.delivered_at, now),
            blobs_delivered_at=sa.func.coalesce(deliveries.c.blobs_delivered_at, now)))
    return len(ids)


def _quarantined_ids(db, inbound_id):
    return db.execute(sa.select(deliveries.c.id).where(deliveries.c.inbound_id == inbound_id, QUARANTINED)
                      .with_for_update()).scalars().all()


def counts(db):
    """{box id: quarantined deliveries}."""
    return dict(db.execute(sa.select(deliveries.c.box_id, sa.func.count()).where(QUARANTINED)
                           .group_by(deliveries.c.box_id)).all())
