"""Which blobs (attachment bytes, by sha256) each box holds, as far as the relay knows, so
that no pouch carries bytes its box already has, and a box may name an attachment the relay
holds for it instead of uploading it again.

A row per (box, blob, pouch) (``schema.box_blobs``): a pouch going down notes each blob its
messages need, with whether it carried the bytes or left them out because the box held
them; the box's ack makes the rows firm.  An upload notes the blobs it carried, firm at
once.  Only a firm row counts: a pouch offered and not acked may yet be parked.  The mail of
a row's pouch is where the relay finds the bytes again (the prepared payloads of the
deliveries it carried, records or attachments or what the box asked for; the upload's queued
messages) while retention keeps them.

Trusting no box: a box names blobs by digest, and the relay looks for one only among that
box's own pouches, so a digest of another box's mail is simply unknown here.  A message
naming one the relay does not hold is held back, never sent without it, and the box sends
it again with the bytes (``resend`` in the answer that takes its upload over); the mail
beside it goes on.  A box that lost a file says so (``missing`` in its sync request): the
relay forgets the box holds it and sends the bytes again.
"""

import logging
import time

import sqlalchemy as sa

from pouch import limits
from pouch.records import BY_REFERENCE, BlobRecord
from relay import payload
from relay.inbound import preparation
from relay.outbound import queue
from relay.schema import box_blobs, deliveries, inbound, outbound, pouches, requested_blobs

log = logging.getLogger(__name__)

OFFERED = "offered"  # packing.OFFERED (packing imports this module)
RESEND = "resend"  # an outbound row: a message named blobs by reference the relay does not hold for its box


class Unresolved(Exception):
    """A message names attachments by reference that the relay holds for no pouch of its box."""

    def __init__(self, digests):
        self.digests = sorted(digests)
        shown = ", ".join(digest.hex()[:16] for digest in self.digests[:5])
        super().__init__(f"the relay does not hold {len(self.digests)} attachment(s) it names without their "
                         f"bytes ({shown}): send them again with their bytes")


def _firm(box_id, sha_hex):
    return sa.and_(box_blobs.c.box_id == box_id, box_blobs.c.sha256 == sha_hex, box_blobs.c.acked_at.isnot(None))


def held(db, box_id, digest):
    """Whether box ``box_id`` acked a pouch that carried (or counted on it holding) ``digest``."""
    return db.execute(sa.select(box_blobs.c.id).where(_firm(box_id, digest.hex())).limit(1)).first() is not None


class Withholding:
    """The pouch writer of one pouch for ``box``: a BlobRecord of a blob the box holds is left
    out (its message's record names it, the box has the bytes); every blob is noted for the ack,
    in one transaction when the pouch is written (a commit per blob would cost a sync per blob)."""

    def __init__(self, engine, box, pouch_name, writer):
        self._engine, self._box, self._name, self._writer = engine, box, pouch_name, writer
        self._noted = {}  # sha256 -> carried

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None and self._noted:
            with self._engine.begin() as db:
                db.execute(box_blobs.insert(), [
                    {"box_id": self._box.id, "sha256": digest.hex(), "pouch_name": self._name, "carried": carried}
                    for digest, carried in self._noted.items()])

    def add(self, record):
        if not isinstance(record, BlobRecord):
            return self._writer.add(record)
        carried = not self._held(record.sha256)
        added = self._writer.add(record) if carried else False  # as PouchWriter.add: False, not written
        self._note(record.sha256, carried)  # once the writer took it: a blob it refused is not noted
        return added

    def unheld(self, blobs):
        """``blobs`` ({sha256: bytes}) but those the box holds, noted as left out: what a
        message's record still has to bring (big mail's split counts only these)."""
        kept = {}
        for digest, data in blobs.items():
            if self._held(digest):
                self._note(digest, False)
            else:
                kept[digest] = data
        return kept

    def _held(self, digest):
        with self._engine.connect() as db:
            return held(db, self._box.id, digest)

    def _note(self, digest, carried):
        self._noted.setdefault(digest, carried)

    def __getattr__(self, name):
        return getattr(self._writer, name)


def withholding(engine, box, pouch_name, writer):
    return Withholding(engine, box, pouch_name, writer)


def firm(db, box_id, pouch_names, now):
    """The box acked these pouches: it holds the blobs they noted (in the ack's transaction)."""
    db.execute(box_blobs.update().where(
        box_blobs.c.box_id == box_id, box_blobs.c.pouch_name.in_(pouch_names), box_blobs.c.acked_at.is_(None),
    ).values(acked_at=now))


def uploaded(db, box_id, pouch_name, digests, now=None):
    """Upload ``pouch_name`` carried these blobs: the box holds them (in the takeover's transaction)."""
    now = int(time.time()) if now is None else now
    rows = [{"box_id": box_id, "sha256": digest.hex(), "pouch_name": pouch_name, "carried": True, "acked_at": now}
            for digest in dict.fromkeys(digests)]
    if rows:
        db.execute(box_blobs.insert(), rows)


# -- a box that lost a file --------------------------------------------------

def _coming(db, box_id, sha_hex):
    """Whether a pouch offered to the box and not acked yet carries the bytes."""
    return db.execute(sa.select(box_blobs.c.id).join(pouches, pouches.c.name == box_blobs.c.pouch_name).where(
        box_blobs.c.box_id == box_id, box_blobs.c.sha256 == sha_hex, box_blobs.c.carried.is_(True),
        box_blobs.c.acked_at.is_(None), pouches.c.state == OFFERED).limit(1)).first() is not None


def _delivery(db, box_id, record_id):
    """The id of the box's delivery of the message with record id ``record_id``, while the relay keeps its bytes."""
    inbound_id = limits.whole_number(record_id)
    if inbound_id is None:
        return None
    return db.execute(sa.select(deliveries.c.id).join(inbound, inbound.c.id == deliveries.c.inbound_id).where(
        deliveries.c.box_id == box_id, deliveries.c.inbound_id == inbound_id,
        deliveries.c.quarantined_at.is_(None), inbound.c.cleared_at.is_(None))).scalar()


def send_again(engine, box, missing):
    """The box lacks these attachments ``[(record id, sha256)]`` of its mail: it holds the blob
    no longer, and the message's attachments go again in a pouch of their own (those the box
    holds left out), unless a pouch on its way carries it.  Returns how many go again."""
    again = 0
    with engine.begin() as db:
        for record_id, digest in missing:
            sha_hex = digest.hex()
            db.execute(box_blobs.delete().where(_firm(box.id, sha_hex)))
            if _coming(db, box.id, sha_hex):
                continue
            delivery = _delivery(db, box.id, record_id)
            if delivery is None:
                log.warning("missing attachment not sent again box=%s message=%r sha256=%s: not a message "
                            "of this box the relay still keeps", box.name, record_id[:40], sha_hex[:16])
                continue
            db.execute(deliveries.update().where(deliveries.c.id == delivery).values(
                blobs_later=True, blobs_pouch_name=None, blobs_delivered_at=None))
            again += 1
    if missing:
        log.info("box lost attachments box=%s reported=%d sent again=%d", box.name, len(missing), again)
    return again


# -- an upload naming blobs without their bytes -------------------------------

def _in_pouch(pouch):
    """A delivery whose record, attachments or requested blobs went in ``pouch`` (a name or a column)."""
    asked = (sa.select(requested_blobs.c.delivery_id).where(requested_blobs.c.pouch_name == pouch)
             .correlate_except(requested_blobs))
    return sa.or_(deliveries.c.pouch_name == pouch, deliveries.c.blobs_pouch_name == pouch, deliveries.c.id.in_(asked))


def _sources(db, box_id, sha_hex):
    """The box's pouches whose mail holds the blob still (firm rows, the newest first)."""
    pouch = box_blobs.c.pouch_name
    live_down = (sa.select(deliveries.c.id).join(inbound, inbound.c.id == deliveries.c.inbound_id).where(
        deliveries.c.box_id == box_id, _in_pouch(pouch), inbound.c.cleared_at.is_(None)))
    live_up = sa.select(outbound.c.id).where(outbound.c.box_id == box_id, outbound.c.pouch_name == pouch,
                                             sa.func.length(outbound.c.payload) > 0)
    return db.execute(sa.select(box_blobs.c.pouch_name).where(
        _firm(box_id, sha_hex), sa.or_(sa.exists(live_down), sa.exists(live_up))).order_by(box_blobs.c.id.desc())
    ).scalars().all()


def _by_reference(message):
    return message.extra.get(BY_REFERENCE) is True


def queued(db, box_id, record_id):
    """Whether the box's message ``record_id`` is queued already (queue.exists); one held back
    for its bytes (RESEND) is not: it comes again now, its row goes."""
    db.execute(outbound.delete().where(outbound.c.box_id == box_id, outbound.c.record_id == record_id,
                                       outbound.c.state == RESEND))
    return queue.exists(db, box_id, record_id)


def hold_back(db, box, pouch_name, record_id, error):
    """Message ``record_id`` of upload ``pouch_name`` names by reference blobs the relay does not
    hold for this box: not sent; the answer that takes the upload over asks the box to send it
    again with the bytes (``held_back``)."""
    log.warning("upload message held back box=%s pouch=%s id=%r: %s", box.name, pouch_name, record_id[:80], error)
    now = int(time.time())
    db.execute(outbound.insert().values(
        box_id=box.id, record_id=record_id, pouch_name=pouch_name, payload=b"", recipients="[]", size=0,
        state=RESEND, last_error=str(error)[:1000], next_attempt_at=now, created_at=now, done_at=now))


def held_back(engine, box, pouch_names):
    """The record ids of the messages of these uploads the box is to send again with their bytes."""
    if not pouch_names:
        return []
    with engine.connect() as db:
        return db.execute(sa.select(outbound.c.record_id).where(
            outbound.c.box_id == box.id, outbound.c.pouch_name.in_(pouch_names), outbound.c.state == RESEND,
        ).order_by(outbound.c.id)).scalars().all()


def _payloads(db, box_id, pouch_name):
    """The payloads (relay.payload) of the box's mail in pouch ``pouch_name``, one at a time:
    inbound mail as prepared (converted now if the background had not), or a queued upload's."""
    down = sa.select(inbound.c.id).join(deliveries, deliveries.c.inbound_id == inbound.c.id).where(
        deliveries.c.box_id == box_id, inbound.c.cleared_at.is_(None), _in_pouch(pouch_name))
    for inbound_id in db.execute(down).scalars().all():
        row = db.execute(sa.select(inbound.c.prepared, inbound.c.raw, inbound.c.mail_from, inbound.c.received_at)
                         .where(inbound.c.id == inbound_id)).one()
        yield row.prepared or preparation.prepare(row.raw, inbound_id, row.mail_from, row.received_at)
    up = sa.select(outbound.c.id).where(outbound.c.box_id == box_id, outbound.c.pouch_name == pouch_name,
                                        sa.func.length(outbound.c.payload) > 0)
    for outbound_id in db.execute(up).scalars().all():
        if data := db.execute(sa.select(outbound.c.payload).where(outbound.c.id == outbound_id)).scalar():
            yield data  # not sent meanwhile (its payload goes then)


def bytes_held(db, box_id, digest):
    """The bytes of ``digest`` from the mail of this box's own pouches, or None."""
    for pouch_name in _sources(db, box_id, digest.hex()):
        for data in _payloads(db, box_id, pouch_name):
            found = payload.unpack(data)[1].get(digest)
            if found is not None:
                return found
    return None


def complete(db, box_id, message, blobs):
    """``blobs`` ({sha256: bytes} that the upload carried for ``message``) with the bytes of
    the attachments it names only, from what the relay holds for this box.  One not there:
    Unresolved if the message names it by reference (takeover holds it back, hold_back);
    else it stays missing and the message fails alone when it is turned into mail."""
    for digest in {a.sha256 for a in message.attachments} - set(blobs):
        found = bytes_held(db, box_id, digest)
        if found is not None:
            blobs[digest] = found
        elif _by_reference(message):
            raise Unresolved([digest])
    return blobs
