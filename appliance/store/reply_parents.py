"""Replies packed against the message they answer (pouch.replies), on the box's side.

Down: the relay packs a reply only against a message it delivered here and the
box acked at most 14 days before (relay.boxsync.reply_parents), or one the box
sent that the relay still has queued.  The box finds the parent's body among
its messages; one a user deleted for good keeps its text ``KEEP_DAYS`` from
then (``keep_deleted``), so such a reply still reads.  One that does not read
(the box lost its store, or the pouch waited longer than that) raises
ReplyError, and the importer sets it aside alone with the reason, as any
record the store cannot take.

Up: a reply the box sends is packed against a message it received from the relay
recently enough that the relay still holds it when it takes the upload over: the
relay keeps mail ``[retention] keep_days`` after the box's ack (each sync answer
says how many, store.blob_refs keeps the figure), and the box counts from before
its ack, less blob_refs' margin of a day for an upload handed over later.  A
relay that does not hold it after all refuses that message alone, with the reason.
"""

import time

import sqlalchemy as sa

from appliance.store import blob_refs, boxinfo
from appliance.store.messages import DRAFT
from appliance.store.tables import messages, reply_parents
from pouch import replies

DAY_S = 86400
KEEP_DAYS = 30  # a deleted message's text, for replies packed against it (the relay packs within 14)
RELAY_ORIGIN = "relay:"  # messages.origin_id of mail that came down


def keep_deleted(conn, message_row_id, now=None):
    """Before message ``message_row_id`` is deleted for good: keep its text for replies to it."""
    now = int(time.time() if now is None else now)
    conn.execute(reply_parents.delete().where(reply_parents.c.kept_until < now))
    row = conn.execute(sa.select(messages.c.message_id, messages.c.body, messages.c.state)
                       .where(messages.c.id == message_row_id)).first()
    if row is not None and row.state != DRAFT and row.body:
        conn.execute(reply_parents.insert().values(message_id=row.message_id, body=row.body,
                                                   kept_until=now + KEEP_DAYS * DAY_S))


def bodies(conn, message_id, now=None):
    """The bodies the box holds of messages called ``message_id``: its mail, then the text it
    keeps of deleted mail."""
    now = int(time.time() if now is None else now)
    yield from conn.execute(sa.select(messages.c.body).where(
        messages.c.message_id == message_id, messages.c.state != DRAFT)).scalars()
    yield from conn.execute(sa.select(reply_parents.c.body).where(
        reply_parents.c.message_id == message_id, reply_parents.c.kept_until >= now)).scalars()


def expanded(conn, record):
    """``record`` with its body whole; ReplyError, with the reason, when it was packed against
    a parent the box does not hold (or whose text is not the one it was packed with)."""
    if not replies.is_packed(record):
        return record
    why = replies.not_held(record)
    for body in bodies(conn, record.parent):
        try:
            return replies.expanded(record, body)
        except replies.ReplyError as error:
            why = error
    raise why


def packed_up(conn, record, now=None):
    """``record`` (the box's own, going up) packed against the message it answers when the relay
    still holds that message and it pays, else ``record``."""
    message_id = replies.parent_id(record)
    if not message_id or not record.body:
        return record
    days = boxinfo.get(conn, blob_refs.KEEP_DAYS)
    if days is None:
        return record
    since = (time.time() if now is None else now) - int(days) * DAY_S + blob_refs.MARGIN_S
    body = conn.execute(sa.select(messages.c.body).where(
        messages.c.message_id == message_id, messages.c.origin_id.like(RELAY_ORIGIN + "%"),
        messages.c.received_at >= since).order_by(messages.c.id.desc()).limit(1)).scalar()
    return record if body is None else replies.compressed(record, message_id, body) or record
