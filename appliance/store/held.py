"""Messages the relay holds as spam: one line each (HeldRecord) for the "Held as spam" folder.

A line belongs to the message's recipients on the box (the admins for an address nobody
has, as for mail).  It goes when the message itself arrives (a user brought it), and when
the relay's retention clears the message (``until``)."""

import logging
import time

import sqlalchemy as sa

from pouch.records import REQUEST_HELD, RequestRecord, VerdictRecord

from appliance.store import addresses, incoming, other_address_flags, relay_requests
from appliance.store.tables import held_messages, messages

log = logging.getLogger(__name__)


def apply(conn, record, now=None):
    """A HeldRecord from the relay; returns how many lines it added.  A message already here,
    or already cleared on the relay, makes none; the lines of a record met again stay as they are."""
    now = int(time.time()) if now is None else now
    drop_expired(conn, now)  # housekeeping as lines come: the page shows none of them anyway
    if record.until and record.until <= now:
        return 0
    if not 0 < len(record.id) <= incoming.MAX_RECORD_ID:  # a message of it could not be kept either
        log.warning("held line with an id of %d characters skipped", len(record.id))
        return 0
    origin = other_address_flags.ORIGIN_PREFIX + record.id
    if conn.execute(sa.select(messages.c.id).where(messages.c.origin_id == origin)).first():
        return 0
    known = set(conn.execute(sa.select(held_messages.c.user_id).where(
        held_messages.c.relay_id == record.id)).scalars())
    owners = [user_id for user_id in incoming.owners_of(conn, record.recipients) if user_id not in known]
    for user_id in owners:
        conn.execute(held_messages.insert().values(
            relay_id=record.id, user_id=user_id, from_json=addresses.dumps(record.from_),
            subject=record.subject[:998], size=record.size, score=float(record.score), date=record.date,
            until=record.until))
    return len(owners)


def arrived(conn, relay_ids):
    """These messages came down: their held lines, and the requests that brought them, are done."""
    ids = list(relay_ids)
    if ids:
        conn.execute(held_messages.delete().where(held_messages.c.relay_id.in_(ids)))
    for relay_id in ids:
        relay_requests.answered(conn, REQUEST_HELD, relay_id)


def _shown(user_id, now):
    return (held_messages.c.user_id == user_id,
            sa.or_(held_messages.c.until == 0, held_messages.c.until > now))


def lines(conn, user_id, offset=0, limit=25, now=None):
    """One page of the user's held lines, newest first, and whether there is a next page."""
    now = int(time.time()) if now is None else now
    rows = conn.execute(sa.select(held_messages).where(*_shown(user_id, now))
                        .order_by(held_messages.c.date.desc(), held_messages.c.id.desc())
                        .offset(offset).limit(limit + 1)).mappings().all()
    return rows[:limit], len(rows) > limit


def line(conn, user_id, line_id, now=None):
    """The user's held line ``line_id``, or None (someone else's, gone or past its time)."""
    now = int(time.time()) if now is None else now
    return conn.execute(sa.select(held_messages).where(
        held_messages.c.id == line_id, *_shown(user_id, now))).mappings().first()


def drop_expired(conn, now=None):
    """Lines the relay has cleared by now go; returns how many."""
    now = int(time.time()) if now is None else now
    return conn.execute(held_messages.delete().where(
        held_messages.c.until != 0, held_messages.c.until <= now)).rowcount


def bring(conn, row, user_email, now=None):
    """Ask the relay for the held message of line ``row`` at the next upload (one request,
    whoever asks); returns whether this asked anew."""
    now = int(time.time()) if now is None else now
    return relay_requests.queue(conn, RequestRecord(what=REQUEST_HELD, message_id=row["relay_id"], at=now,
                                                    user=user_email), now=now)


def not_spam(conn, row, user_email, now=None):
    """The user says the held message is not spam: the relay learns it, and brings it."""
    now = int(time.time()) if now is None else now
    relay_requests.queue(conn, VerdictRecord(message_id=row["relay_id"], spam=False, at=now, user=user_email))
    return bring(conn, row, user_email, now)


def is_asked(conn, row):
    return relay_requests.is_requested(conn, REQUEST_HELD, row["relay_id"])


def refusal(conn, row):
    """Why the relay would not bring the held message of line ``row`` last time, or None."""
    return relay_requests.refusal(conn, REQUEST_HELD, row["relay_id"])
