"""How long the relay keeps mail it is done with.

Inbound mail is kept whole (raw MIME and its prepared records) until every box
it was for has acked it, attachments included.  ``[retention] keep_days``
later its bytes are cleared; the row stays, metadata only, so counts, the
status page and the external accounts' message map are unchanged.  Mail for a
revoked box is done from the revocation: no box can fetch it any more.  Mail a
box has not acked is never cleared, however old: a box may be offline for weeks;
but mail held as spam (relay.spam.holding) is, ``keep_days`` after its arrival.

Outbound mail that failed is dropped as soon as its fate is known
(relay.outbound.queue); mail sent is kept ``keep_days`` after the send, as inbound
mail is after the ack, so that a reply to it comes down packed against it
(relay.boxsync.reply_parents) and a forward of its attachments names them.

Uploads a box never handed over expire, their bytes deleted from the blob
store: one still staging once its upload URL can no longer finish it, one
uploaded whole after ``keep_days`` (the box may come back to hand it over).
The box then hears that the relay no longer expects it, and packs its mail
again.
"""

import asyncio
import shutil
import time
from pathlib import Path

import sqlalchemy as sa

from relay.boxsync import history, takeover
from relay.spam import holding
from relay.schema import boxes, deliveries, inbound, outbound, pouches, requested_blobs

DAY_S = 86400
STAGED_MARGIN_S = 3600  # beyond an upload URL's lifetime: a clock a little off, a block in flight
EXPIRED = "expired"


def _done_before(cutoff):
    """A delivery whose box acked it, attachments too, by ``cutoff``; or whose box was revoked
    by then.  Never NULL, so that NOT of it is never NULL either."""
    acked = sa.and_(deliveries.c.delivered_at.isnot(None), deliveries.c.delivered_at <= cutoff,
                    sa.or_(sa.not_(deliveries.c.blobs_later),
                           sa.and_(deliveries.c.blobs_delivered_at.isnot(None),
                                   deliveries.c.blobs_delivered_at <= cutoff)))
    revoked = sa.and_(boxes.c.revoked_at.isnot(None), boxes.c.revoked_at <= cutoff)
    return sa.or_(acked, revoked, holding.HELD)  # held spam: counted from its arrival (by _clearable)


def _clearable(cutoff, limit):
    """Ids of kept inbound mail every box was done with by ``cutoff``."""
    still_wanted = (sa.select(deliveries.c.id).join(boxes, boxes.c.id == deliveries.c.box_id)
                    .where(deliveries.c.inbound_id == inbound.c.id, sa.not_(_done_before(cutoff))))
    asked = (sa.select(requested_blobs.c.id).join(deliveries, deliveries.c.id == requested_blobs.c.delivery_id)
             .join(boxes, boxes.c.id == deliveries.c.box_id)  # what a box asked for stays until it acks it
             .where(deliveries.c.inbound_id == inbound.c.id, requested_blobs.c.delivered_at.is_(None),
                    boxes.c.revoked_at.is_(None)))
    return (sa.select(inbound.c.id)
            .where(inbound.c.cleared_at.is_(None), inbound.c.received_at <= cutoff, ~sa.exists(still_wanted),
                   ~sa.exists(asked))
            .order_by(inbound.c.id).limit(limit))


def clear_some(engine, keep_days, now=None, limit=500):
    """Clear the bytes of up to ``limit`` messages kept ``keep_days`` past their last ack;
    returns how many."""
    now = int(time.time() if now is None else now)
    with engine.begin() as db:
        ids = db.execute(_clearable(now - keep_days * DAY_S, limit)).scalars().all()
        if ids:
            db.execute(inbound.update().where(inbound.c.id.in_(ids), inbound.c.cleared_at.is_(None))
                       .values(raw=b"", prepared=None, cleared_at=now))
        sent = _clear_sent(db, now - keep_days * DAY_S, limit)
        history.clear(db, now - keep_days * DAY_S)  # the pieces are mail text too
    return len(ids) + sent


def _clear_sent(db, cutoff, limit):
    """Clear the bytes of up to ``limit`` messages sent by ``cutoff``."""
    ids = db.execute(sa.select(outbound.c.id).where(
        outbound.c.done_at <= cutoff, outbound.c.payload != b"").order_by(outbound.c.id).limit(limit)).scalars().all()
    if ids:
        db.execute(outbound.update().where(outbound.c.id.in_(ids)).values(payload=b""))
    return len(ids)


def kept(db):
    """(messages, bytes of raw MIME) the relay holds."""
    count, size = db.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(inbound.c.size), 0))
                             .where(inbound.c.cleared_at.is_(None))).one()
    return count, size


def _waiting_uploads(engine, cutoff, limit):
    with engine.connect() as db:
        return db.execute(sa.select(pouches.c.name, pouches.c.box_id, pouches.c.created_at).where(
            pouches.c.direction == takeover.UP, pouches.c.state == takeover.EXPECTED,
            pouches.c.created_at <= cutoff).order_by(pouches.c.created_at).limit(limit)).all()


def _expire(engine, name, reason, now):
    with engine.begin() as db:
        return db.execute(pouches.update().where(pouches.c.name == name, pouches.c.state == takeover.EXPECTED)
                          .values(state=EXPIRED, error=reason, done_at=now)).rowcount


async def expire_uploads(engine, store, settings, now=None, limit=200):
    """Expire up to ``limit`` uploads never handed over, their bytes deleted first (a takeover
    that read them meanwhile still wins the row); returns how many."""
    now = int(time.time() if now is None else now)
    staged_for = settings.storage.url_lifetime_s + STAGED_MARGIN_S
    expired = 0
    for row in await asyncio.to_thread(_waiting_uploads, engine, now - staged_for, limit):
        if await store.exists(row.name):  # uploaded whole: the box may still hand it over
            if row.created_at > now - settings.retention.keep_days * DAY_S:
                continue
            reason = f"uploaded but not handed over within {settings.retention.keep_days} days"
        else:
            reason = f"not uploaded within {staged_for} s"
        await store.delete(row.name)
        expired += await asyncio.to_thread(_expire, engine, row.name, reason, now)
    await asyncio.to_thread(_clear_spills, Path(settings.relay.data_dir) / takeover.SPILL_FOLDER, now - DAY_S)
    return expired


def _clear_spills(folder, cutoff):
    """Remove what takeovers a crash interrupted left in their spill folder."""
    for path in folder.glob("*") if folder.is_dir() else ():
        if path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
