"""Blob references: attachment bytes that need not cross the modem because the other side
holds them.

Down: the relay leaves out of a pouch the bytes of an attachment the box has acked before;
the message's record names it and the box finds the file in its own attachment files.  A
box that lacks such a file (lost from its card: the box itself never deletes one) notes it
here, as it does before each sync for the files the relay sent within its ``keep_days``, and
the next sync request tells the relay (``missing``), which sends the bytes again.

Up: a forward (or reply) carrying an attachment that came through the relay names it
without its bytes while the relay still keeps it: ``[retention] keep_days`` after the box's
ack, a figure each sync answer gives.  The box counts from when it received the attachment
(before its ack) and leaves a day's margin for an upload handed over later.  Should the
relay hold it no longer, the answer that takes the upload over names the message
(``resend``): it goes again with its bytes at the next sync, the mail beside it sent.
"""

import time

import sqlalchemy as sa

from appliance.store import boxinfo, outbox
from appliance.store.other_address_flags import ORIGIN_PREFIX
from appliance.store.tables import attachments, messages, missing_blobs, relay_blobs

KEEP_DAYS = "relay_keep_days"  # box_state: what the relay's last sync answer said
DAY_S = 86400
MARGIN_S = DAY_S  # an upload packed now may be handed over later (a dropped link, the next window)


def save_keep_days(conn, days):
    if isinstance(days, int) and not isinstance(days, bool) and 0 <= days < 100_000:
        boxinfo.put(conn, KEEP_DAYS, days)


def relay_holds(conn, sha_hex, now=None):
    """Whether an upload may name attachment ``sha_hex`` without its bytes."""
    days = boxinfo.get(conn, KEEP_DAYS)
    if days is None:
        return False
    since = (time.time() if now is None else now) - int(days) * DAY_S + MARGIN_S
    return conn.execute(sa.select(relay_blobs.c.sha256).where(
        relay_blobs.c.sha256 == sha_hex, relay_blobs.c.received_at > since)).first() is not None


def relay_keeps(store, digest):
    """Whether the next upload may name attachment ``digest`` without its bytes."""
    with store.read() as conn:
        return relay_holds(conn, digest.hex())


def kept(store, records):
    """The digests of the attachments of ``records`` an upload names without their bytes."""
    digests = {attachment.sha256 for record in records for attachment in record.attachments}
    return {digest for digest in digests if relay_keeps(store, digest)}


def arrived(store, conn, records, blobs, now=None):
    """After a pouch's import (its transaction): the attachments of its messages the box now
    has, the relay has too; those the box lacks that are not placeholders are missing, unless
    their bytes come later (big mail's do: the relay knows, and ignores the report)."""
    now = int(time.time()) if now is None else now
    received = {digest.hex() for digest in blobs}
    for record in records:
        if _delivered(conn, record.id):
            received |= {a.sha256.hex() for a in record.attachments if not a.held}
    for sha_hex in sorted(received):
        if store.attachment_files.has(sha_hex):
            _received(conn, sha_hex, now)
        else:
            for record in records:
                if any(a.sha256.hex() == sha_hex for a in record.attachments):
                    _missing(conn, sha_hex, record.id)


def _delivered(conn, record_id):
    origin = ORIGIN_PREFIX + record_id
    return conn.execute(sa.select(messages.c.id).where(messages.c.origin_id == origin)).first() is not None


def _received(conn, sha_hex, now):
    if not conn.execute(relay_blobs.update().where(relay_blobs.c.sha256 == sha_hex).values(received_at=now)).rowcount:
        conn.execute(relay_blobs.insert().values(sha256=sha_hex, received_at=now))
    conn.execute(missing_blobs.delete().where(missing_blobs.c.sha256 == sha_hex))


def _missing(conn, sha_hex, record_id):
    known = conn.execute(sa.select(missing_blobs.c.id).where(
        missing_blobs.c.sha256 == sha_hex, missing_blobs.c.relay_id == record_id)).first()
    if known is None:
        conn.execute(missing_blobs.insert().values(sha256=sha_hex, relay_id=record_id))
    return known is None


def note_lost(store, now=None):
    """Before a sync: attachment files the relay sent within its ``keep_days`` (so it can send
    them again) that are no longer on the box are missing; returns how many were noted now."""
    with store.read() as conn:
        days = boxinfo.get(conn, KEEP_DAYS)
        if days is None:
            return 0
        since = (time.time() if now is None else now) - int(days) * DAY_S
        recent = conn.execute(sa.select(relay_blobs.c.sha256).where(relay_blobs.c.received_at > since)).scalars()
        lost = [sha_hex for sha_hex in recent if not store.attachment_files.has(sha_hex)]
    if not lost:
        return 0
    with store.write() as conn:
        return sum(_missing(conn, sha_hex, relay_id) for sha_hex in lost
                   if (relay_id := _latest_message(conn, sha_hex)) is not None)


def _latest_message(conn, sha_hex):
    """The relay's record id of the newest message from the relay with this attachment."""
    origin = conn.execute(sa.select(messages.c.origin_id).join(attachments, attachments.c.message_id == messages.c.id)
                          .where(attachments.c.sha256 == sha_hex, messages.c.origin_id.startswith(ORIGIN_PREFIX))
                          .order_by(messages.c.id.desc()).limit(1)).scalar()
    return None if origin is None else origin.removeprefix(ORIGIN_PREFIX)


def unreported(conn, limit):
    """(ids, [{"message", "sha256"}]) of missing attachments the relay has not heard of."""
    rows = conn.execute(sa.select(missing_blobs).where(missing_blobs.c.reported_at.is_(None))
                        .order_by(missing_blobs.c.id).limit(limit)).all()
    return [row.id for row in rows], [{"message": row.relay_id, "sha256": row.sha256} for row in rows]


def reported(conn, ids, now=None):
    if ids:
        conn.execute(missing_blobs.update().where(missing_blobs.c.id.in_(ids))
                     .values(reported_at=int(time.time()) if now is None else now))


def send_again(store, conn, uids):
    """The relay took these messages over but for the attachments they name by reference, which
    it holds no longer: back to the outbox, to go with their bytes at the next sync.  One whose
    file the box lacks too cannot go: it fails, saying so.  Returns how many go again."""
    if not uids:
        return 0
    rows = conn.execute(sa.select(messages.c.uid, attachments.c.sha256).join(
        attachments, attachments.c.message_id == messages.c.id).where(messages.c.uid.in_(list(uids)))).all()
    conn.execute(relay_blobs.delete().where(relay_blobs.c.sha256.in_(sorted({row.sha256 for row in rows}))))
    lost = {row.uid for row in rows if not store.attachment_files.has(row.sha256)}
    again = outbox.requeue(conn, uids)
    return again - outbox.mark_failed(conn, lost, "an attachment of it is no longer on the box nor on the relay")
