"""Small records owed to the relay: users' requests for what it holds back (RequestRecord),
their spam verdicts (VerdictRecord) and the box's download settings (BoxSettingsRecord).

Each rides the next upload pouch (appliance.sync.outgoing) and leaves the queue when the
relay took that pouch.  The queue keeps one row per thing owed, whoever asked: one request
for a held message or an attachment serves every user of the box; a user's later verdict on
a message, or the admin's later settings, replace the earlier ones not yet sent.

A request the relay took stays known for a while (``is_requested``): its answer comes with
the next sync, and the page says so rather than offering to ask again.  After ``REASK_AFTER_S``
without an answer it may be asked for again.  One the relay refused (a RefusalRecord) keeps
the relay's reason for the page (``refusal``) and may be asked for again at once."""

import time

import msgpack
import sqlalchemy as sa

from pouch import limits
from pouch.container import wire

from appliance.store.tables import relay_requests

REQUEST, VERDICT, SETTINGS = "request", "verdict", "box settings"  # wire kind names
REASK_AFTER_S = 3 * 24 * 3600  # a request taken this long ago and still unanswered may go again
KEEP_TAKEN_S = 30 * 24 * 3600  # then its row goes
MAX_REFUSAL = 500  # characters kept of the relay's reason


def _request_key(what, message_id, sha256):
    return f"{what}\n{message_id}\n{sha256.hex()}"


def _key(record):
    """What makes two records the same thing owed (a later one replaces or joins it)."""
    kind = wire.kind_of(record).name
    if kind == REQUEST:
        return kind, _request_key(record.what, record.message_id, record.sha256)
    if kind == VERDICT:
        return kind, record.message_id
    if kind == SETTINGS:
        return kind, ""
    raise TypeError(f"a {kind} record is not owed to the relay from this queue")


def queue(conn, record, now=None):
    """Owe ``record`` to the relay.  Returns False for a request already owed (or sent and
    still awaited): nothing changes.  A verdict or settings replace one not yet sent."""
    kind, key = _key(record)
    now = int(time.time()) if now is None else now
    row = conn.execute(sa.select(relay_requests.c.id, relay_requests.c.taken_at, relay_requests.c.refusal).where(
        relay_requests.c.kind == kind, relay_requests.c.key == key)).first()
    if row and kind == REQUEST and row.refusal is None and (row.taken_at is None or
                                                            row.taken_at > now - REASK_AFTER_S):
        return False
    if row:  # a new row, so a pouch that carries the old one does not take this one with it
        conn.execute(relay_requests.delete().where(relay_requests.c.id == row.id))
    conn.execute(relay_requests.insert().values(
        kind=kind, key=key, record=msgpack.packb(wire.encode(record), use_bin_type=True), queued_at=now))
    return True


def pending(conn):
    """(records, row ids) owed to the relay and not yet taken, oldest first, as many as one
    upload carries (the relay takes no more)."""
    rows = conn.execute(sa.select(relay_requests.c.id, relay_requests.c.record)
                        .where(relay_requests.c.taken_at.is_(None))
                        .order_by(relay_requests.c.id).limit(limits.MAX_REQUESTS_PER_UPLOAD)).all()
    return ([wire.decode(msgpack.unpackb(row.record, raw=False)) for row in rows], [row.id for row in rows])


def taken(conn, row_ids, now=None):
    """The relay took a pouch carrying these rows.  Verdicts and settings are done; requests
    stay, marked taken, until answered (``answered``) or old.  What was queued again since it
    was packed (a newer verdict, newer settings) is a row of its own, and stays owed."""
    now = int(time.time()) if now is None else now
    table = relay_requests.c
    ids = list(row_ids)
    if ids:
        packed = sa.and_(table.id.in_(ids), table.taken_at.is_(None))
        conn.execute(relay_requests.update().where(packed, table.kind == REQUEST).values(taken_at=now))
        conn.execute(relay_requests.delete().where(packed, table.kind != REQUEST))
    conn.execute(relay_requests.delete().where(table.taken_at < now - KEEP_TAKEN_S))


def _request(what, message_id, sha256):
    return sa.and_(relay_requests.c.kind == REQUEST,
                   relay_requests.c.key == _request_key(what, message_id, sha256))


def is_requested(conn, what, message_id, sha256=b"", now=None):
    """Whether ``what`` (REQUEST_*) of the relay's message ``message_id`` is asked for: it goes
    with the next upload, or went and comes with the next sync."""
    now = int(time.time()) if now is None else now
    table = relay_requests.c
    return conn.execute(sa.select(table.id).where(
        _request(what, message_id, sha256), table.refusal.is_(None),
        sa.or_(table.taken_at.is_(None), table.taken_at > now - REASK_AFTER_S))).first() is not None


def refused(conn, record):
    """A RefusalRecord: the relay will not serve a request it took; the page shows its reason.
    Returns how many requests it answered (none when the box asked anew meanwhile)."""
    return conn.execute(relay_requests.update().where(
        _request(record.what, record.message_id, record.sha256), relay_requests.c.taken_at.isnot(None))
        .values(refusal=record.reason[:MAX_REFUSAL] or "no reason given")).rowcount


def refusal(conn, what, message_id, sha256=b""):
    """Why the relay refused the last request for this, or None."""
    return conn.execute(sa.select(relay_requests.c.refusal).where(
        _request(what, message_id, sha256), relay_requests.c.refusal.isnot(None))).scalar()


def answered(conn, what, message_id, sha256=b""):
    """What was asked for has come: its request is done."""
    conn.execute(relay_requests.delete().where(_request(what, message_id, sha256)))
