"""Holding spam on the relay: a delivery whose score is at or above its box's threshold is
not packed; the box is owed one HeldRecord (sender, subject, size, score, until when the relay
keeps it) instead.  A box's REQUEST_HELD, or its user saying "not spam", releases it: it is
packed at the next sync as any mail.

The score is spamd's for that box (relay.spam.scoring) when there is one, else SendGrid's
``spam_score``; mail neither scored is not held.  The threshold is the box's own
(BoxSettingsRecord, boxes.spam_threshold), else ``[spam] threshold``.  Packing holds what is
due just before it reads the box's pending mail, so a threshold the box changed applies to
all mail not yet packed.  Held mail is cleared with the rest, ``[retention] keep_days`` after
its arrival (relay.retention).
"""

import json
import logging
import time
from email.parser import BytesHeaderParser

import sqlalchemy as sa

from pouch import limits
from pouch.mime import headers, policies
from pouch.records import HeldRecord
from relay import owed, quarantine
from relay.inbound import store as inbound_store  # module: store -> retention -> here
from relay.schema import boxes, deliveries, inbound
from relay.spam import scoring

log = logging.getLogger(__name__)

DAY_S = 86400
MAX_SUBJECT_CHARS = 120  # one short line on the box
MAX_HEADER_BYTES = 64 * 1024  # what the line is read from: its header block
HELD = sa.and_(deliveries.c.held_at.isnot(None), deliveries.c.released_at.is_(None))
UNHELD = sa.not_(HELD)  # held_at is set only with released_at NULL
PACKABLE = sa.and_(deliveries.c.scored_at.isnot(None), UNHELD)  # its score settled (relay.spam.scoring), not held
SCORE = sa.func.coalesce(deliveries.c.spam_score, inbound.c.sendgrid_spam_score)


class NotHeld(LookupError):
    """A request to bring a message that is no held mail of this box (the reason says why)."""


def threshold(db, box_id, default):
    chosen = db.execute(sa.select(boxes.c.spam_threshold).where(boxes.c.id == box_id)).scalar()
    return default if chosen is None else chosen


def hold(engine, settings, box):
    """Score the box's unscored mail, then hold what is due; returns how many were held now."""
    scoring.score_box(engine, settings.spam, box.id)
    now, held = int(time.time()), 0
    with engine.begin() as db:
        limit = threshold(db, box.id, settings.spam.threshold)
        due = db.execute(sa.select(deliveries.c.id, deliveries.c.recipients, inbound.c.id.label("inbound_id"),
                                   scoring.raw_head(MAX_HEADER_BYTES), inbound.c.size, inbound.c.received_at, inbound.c.mail_from,
                                   SCORE.label("score"))
                         .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                         .where(deliveries.c.box_id == box.id, deliveries.c.held_at.is_(None),
                                deliveries.c.released_at.is_(None), deliveries.c.pouch_name.is_(None),
                                deliveries.c.delivered_at.is_(None), deliveries.c.quarantined_at.is_(None),
                                inbound.c.cleared_at.is_(None), SCORE >= limit)).all()
        for row in due:
            try:
                record = held_record(row, settings.retention.keep_days)
            except quarantine.EXPECTED as error:  # no line can be made of it: left to packing, as mail
                quarantine.logged(error, "hold", box=box.name, delivery=row.id)
                continue
            if db.execute(deliveries.update().where(deliveries.c.id == row.id, deliveries.c.held_at.is_(None))
                          .values(held_at=now)).rowcount:
                owed.owe(db, box.id, record)
                held += 1
                log.info("spam held box=%s delivery=%s score=%.1f threshold=%.1f", box.name, row.id,
                         row.score, limit)
    return held


def held_record(row, keep_days):
    """The one line the box gets for a held delivery: from its header block only."""
    header = BytesHeaderParser(policy=policies.PARSING).parsebytes(inbound_store.header_block(bytes(row.raw)))
    senders = headers.addresses(header.get_all("from", [])) or [("", row.mail_from)]
    return HeldRecord(
        id=str(row.inbound_id), from_=[list(senders[0])], subject=headers.decoded(header.get("subject"))[:MAX_SUBJECT_CHARS],
        size=row.size, score=round(float(row.score), 1), date=headers.date_seconds(header.get("date")) or row.received_at,
        recipients=json.loads(row.recipients), until=row.received_at + keep_days * DAY_S)


def bring(db, box, message_id, user=""):
    """Release this box's held delivery of relay record ``message_id`` for the next sync; True
    if released now, False if it was before.  NotHeld if it is no held mail of this box."""
    row = kept_delivery(db, box, message_id, NotHeld)
    if row.held_at is None:
        raise NotHeld("that message was not held as spam")
    if row.released_at is not None:
        return False
    db.execute(deliveries.update().where(deliveries.c.id == row.id).values(released_at=int(time.time())))
    log.info("spam brought box=%s delivery=%s user=%r", box.name, row.id, user[:80])
    return True


def kept_delivery(db, box, message_id, refused, *columns):
    """This box's delivery of relay record ``message_id`` (an inbound id), its mail still kept,
    with ``columns`` of it too; else raises ``refused`` with the reason.  A box is untrusted:
    another box's mail is no mail of this one."""
    inbound_id = limits.whole_number(message_id)  # a relay record id is an inbound id
    if inbound_id is None:
        raise refused(f"no message {message_id!r:.40} came to this box")
    row = db.execute(sa.select(deliveries.c.id, deliveries.c.held_at, deliveries.c.released_at,
                               inbound.c.cleared_at, *columns)
                     .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                     .where(deliveries.c.box_id == box.id, deliveries.c.inbound_id == inbound_id)).first()
    if row is None:
        raise refused(f"no message {message_id!r:.40} came to this box")
    if row.cleared_at is not None:
        raise refused("the relay no longer keeps that message (its retention period is over)")
    return row


def held_counts(db):
    """{box name: messages held now (kept, not brought)}."""
    return dict(db.execute(sa.select(boxes.c.name, sa.func.count())
                           .join(deliveries, deliveries.c.box_id == boxes.c.id)
                           .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                           .where(HELD, inbound.c.cleared_at.is_(None)).group_by(boxes.c.name)).all())
