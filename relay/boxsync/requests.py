"""What a box asks the relay for (RequestRecord), taken over with its upload.

``HANDLERS`` maps a request's ``what`` to its handler, ``handler(db, box, record)``, run in the
takeover's transaction: it does what was asked and returns True, or returns False when the
same was asked before (served once), or raises Refused with a reason for the box's users.
A refused request is logged and the rest of the upload goes on: a box is untrusted, and a
request may name another box's mail, an unknown id or digest, or mail whose bytes retention
cleared.  The box hears why in its next pouch (a RefusalRecord, relay.owed), so its page says
that instead of "asked for"; so does a request that could no longer be served when packed.

A held attachment or an original asked for is a row of ``requested_blobs``: its blob is
packed after the records of the box's next sync (relay.boxsync.packing), offered and acked
like mail; until then retention keeps its message.
"""

import hashlib
import logging
import time

import sqlalchemy as sa

from pouch import limits
from pouch.records import REQUEST_ATTACHMENT, REQUEST_HELD, REQUEST_ORIGINAL, BlobRecord, RefusalRecord
from relay import owed, payload, quarantine
from relay.boxsync import placeholders
from relay.inbound import preparation
from relay.schema import deliveries, inbound, requested_blobs
from relay.spam import holding

log = logging.getLogger(__name__)

MAX_TOLD_ID = 100  # a refused request naming a longer id is logged only: no box of ours asked it
# Requests taken from one upload (each reads its message's payload); the rest are refused.
MAX_REQUESTS = limits.MAX_REQUESTS_PER_UPLOAD
# What _payload reads of a delivery's message.
MESSAGE = (inbound.c.id.label("inbound_id"), inbound.c.prepared, inbound.c.raw, inbound.c.mail_from,
           inbound.c.received_at, inbound.c.cleared_at)


class Refused(Exception):
    """A request the relay will not serve, with why (for the box's users)."""


def apply(db, box, records):
    """Apply the requests of one upload; returns how many were new.  Each refused one is owed
    back to the box with its reason."""
    new = 0
    distinct = list({(record.what, record.message_id, record.sha256): record for record in records}.values())
    for record in distinct[MAX_REQUESTS:2 * MAX_REQUESTS]:  # a box of ours packs no more: beyond, logged only
        _refuse(db, box, record, f"more than {MAX_REQUESTS} requests in one upload: ask again after this sync")
    for record in distinct[:MAX_REQUESTS]:
        try:
            handler = HANDLERS.get(record.what)
            if handler is None:
                raise Refused(f"the relay does not know requests for {record.what!r:.40}")
            new += bool(handler(db, box, record))
        except Refused as refusal:
            _refuse(db, box, record, str(refusal))
        except quarantine.NOT_THE_MESSAGES:
            raise
        except Exception:  # noqa: BLE001 - a bug with one request: the rest of the upload goes on
            log.exception("request failed box=%s what=%r message=%r", box.name, record.what[:40],
                          record.message_id[:40])
    return new


def _refuse(db, box, record, reason):
    """Log a refused request and tell the box why in its next pouch."""
    log.warning("request refused box=%s what=%r message=%r sha256=%s user=%r reason=%r", box.name,
                record.what[:40], record.message_id[:40], record.sha256.hex()[:16], record.user[:80], reason)
    if len(record.message_id) <= MAX_TOLD_ID and len(record.what) <= MAX_TOLD_ID:
        owed.owe(db, box.id, RefusalRecord(record.message_id, record.what, record.sha256, reason, int(time.time())))


def _delivery(db, box, message_id):
    """This box's delivery of the message with relay record id ``message_id``, its payload's columns."""
    inbound_id = limits.whole_number(message_id)  # a relay record id is an inbound id
    if inbound_id is None:
        raise Refused(f"no message {message_id!r:.40} came to this box")
    row = db.execute(sa.select(deliveries.c.id, deliveries.c.packed_limit, *MESSAGE)
                     .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                     .where(deliveries.c.inbound_id == inbound_id, deliveries.c.box_id == box.id)).first()
    if row is None:
        raise Refused(f"no message {message_id!r:.40} came to this box")
    return row


def _payload(row):
    """(record, blobs) of a delivery's message; Refused once retention cleared its bytes."""
    if row.cleared_at is not None:
        raise Refused("the relay no longer keeps this message's attachments (its retention period is over)")
    return payload.unpack(row.prepared or preparation.prepare(row.raw, row.inbound_id, row.mail_from,
                                                              row.received_at))


def _attachment(db, box, request):
    """The bytes of an attachment that came as a placeholder."""
    row = _delivery(db, box, request.message_id)
    record, blobs = _payload(row)
    if request.sha256 not in blobs or not any(
            attachment.sha256 == request.sha256 and placeholders.is_held(attachment, row.packed_limit)
            for attachment in record.attachments):
        raise Refused("this message has no attachment held back with that sha256")
    return _ask(db, box, row, request, len(blobs[request.sha256]))


def _original(db, box, request):
    """The original of a photo the relay shrank."""
    row = _delivery(db, box, request.message_id)
    record, blobs = _payload(row)
    if request.sha256 not in blobs or not any(
            attachment.original_sha256 == request.sha256 for attachment in record.attachments):
        raise Refused("this message has no original with that sha256 on the relay")
    return _ask(db, box, row, request, len(blobs[request.sha256]))


def _ask(db, box, row, request, size):
    digest = request.sha256.hex()
    if db.execute(sa.select(requested_blobs.c.id).where(
            requested_blobs.c.delivery_id == row.id, requested_blobs.c.sha256 == digest)).first():
        return False
    db.execute(requested_blobs.insert().values(
        box_id=box.id, delivery_id=row.id, sha256=digest, size=size, what=request.what,
        requested_at=int(time.time())))
    log.info("request box=%s what=%s message=%s sha256=%s size=%d user=%r", box.name, request.what,
             row.inbound_id, digest[:16], size, request.user[:80])
    return True


def _held(db, box, request):
    """A message held as spam: packed at the next sync as any mail (relay.spam.holding)."""
    try:
        return holding.bring(db, box, request.message_id, request.user)
    except holding.NotHeld as why:
        raise Refused(str(why)) from None


# RequestRecord.what -> handler.
HANDLERS = {REQUEST_ATTACHMENT: _attachment, REQUEST_ORIGINAL: _original, REQUEST_HELD: _held}


def pending(db, box_id):
    """(id, size) of the blobs the box asked for that no pouch carries yet, oldest first."""
    return db.execute(sa.select(requested_blobs.c.id, requested_blobs.c.size).where(
        requested_blobs.c.box_id == box_id, requested_blobs.c.pouch_name.is_(None),
        requested_blobs.c.delivered_at.is_(None)).order_by(requested_blobs.c.id)).all()


def write(engine, writer, box, ids):
    """Write the blobs of requests ``ids`` to ``writer``, one message's payload in memory at a
    time; returns the ids written.  One that can no longer be served is dropped, and the box
    told why in its next pouch."""
    written, dropped = [], {}  # request id -> the refusal the box hears
    for request_id in ids:
        with engine.connect() as db:
            request = db.execute(sa.select(requested_blobs.c.sha256, requested_blobs.c.delivery_id,
                                           requested_blobs.c.what)
                                 .where(requested_blobs.c.id == request_id)).one()
            row = db.execute(sa.select(*MESSAGE).select_from(deliveries)
                             .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                             .where(deliveries.c.id == request.delivery_id)).one()
        digest = bytes.fromhex(request.sha256)
        try:
            data = _payload(row)[1].get(digest)
            if not isinstance(data, bytes) or hashlib.sha256(data).digest() != digest:
                raise Refused("its bytes are not in the message's payload")
        except quarantine.NOT_THE_MESSAGES:
            raise
        except Exception as error:  # noqa: BLE001 - this request's trouble: the blobs beside it go on
            why = quarantine.reason(error)
            log.warning("requested blob dropped box=%s message=%s sha256=%s reason=%r", box.name, row.inbound_id,
                        request.sha256[:16], why)
            told = str(error) if isinstance(error, Refused) else "the relay could not read it (its log says why)"
            dropped[request_id] = RefusalRecord(str(row.inbound_id), request.what, digest, told, int(time.time()))
            continue
        writer.add(BlobRecord(digest, data))
        written.append(request_id)
    if dropped:
        with engine.begin() as db:
            db.execute(requested_blobs.delete().where(requested_blobs.c.id.in_(list(dropped))))
            for refusal in dropped.values():
                owed.owe(db, box.id, refusal)
    return written


def release(db, box_id, pouch_name):
    """The blobs of pouch ``pouch_name``, which the box could not read, travel in the next one."""
    db.execute(requested_blobs.update().where(
        requested_blobs.c.box_id == box_id, requested_blobs.c.pouch_name == pouch_name,
        requested_blobs.c.delivered_at.is_(None)).values(pouch_name=None))
