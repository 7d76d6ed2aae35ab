"""How long the relay keeps mail it is done with.

Inbound mail is kept whole (raw MIME and its prepared records) until every box
it was for has acked it, attachments included.  ``[retention] keep_days``
later its bytes are cleared; the row stays, metadata only, so counts, the
status page and the external accounts' message map are unchanged.  Mail for a
revoked box is done from the revocation: no box can fetch it any more.  Mail a
box has not acked is never cleared, however old: a box may be offline for weeks.

Outbound mail needs no policy of its own: its content is dropped as soon as
its fate is known (relay.outbound.queue).
"""

import time

import sqlalchemy as sa

from relay.schema import boxes, deliveries, inbound

DAY_S = 86400


def _done_before(cutoff):
    """A delivery whose box acked it, attachments too, by ``cutoff``; or whose box was revoked
    by then.  Never NULL, so that NOT of it is never NULL either."""
    acked = sa.and_(deliveries.c.delivered_at.isnot(None), deliveries.c.delivered_at <= cutoff,
                    sa.or_(sa.not_(deliveries.c.blobs_later),
                           sa.and_(deliveries.c.blobs_delivered_at.isnot(None),
                                   deliveries.c.blobs_delivered_at <= cutoff)))
    revoked = sa.and_(boxes.c.revoked_at.isnot(None), boxes.c.revoked_at <= cutoff)
    return sa.or_(acked, revoked)


def _clearable(cutoff, limit):
    """Ids of kept inbound mail every box was done with by ``cutoff``."""
    still_wanted = (sa.select(deliveries.c.id).join(boxes, boxes.c.id == deliveries.c.box_id)
                    .where(deliveries.c.inbound_id == inbound.c.id, sa.not_(_done_before(cutoff))))
    return (sa.select(inbound.c.id)
            .where(inbound.c.cleared_at.is_(None), inbound.c.received_at <= cutoff, ~sa.exists(still_wanted))
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
    return len(ids)


def kept(db):
    """(messages, bytes of raw MIME) the relay holds."""
    count, size = db.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(inbound.c.size), 0))
                             .where(inbound.c.cleared_at.is_(None))).one()
    return count, size
