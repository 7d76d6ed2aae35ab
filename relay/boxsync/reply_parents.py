"""Replies packed against the message they answer (pouch.replies), on the relay's side.

Down, a reply is packed against its parent only when the box holds that parent
for sure: mail this relay delivered to the box that the box acked within
``DOWN_DAYS``, or mail the box sent that the relay sent within as long (the
box keeps the text of a message its users delete for longer:
appliance.store.reply_parents); relay.retention keeps both ``keep_days``.
The parent's text is its prepared record's body, as the box stored it, or the
body the box uploaded.

Mail that answers nothing the box holds is packed, the same way, against the
newest message from the same sender the box holds for sure (``packed_down``):
a newsletter, a notification or a correspondent's next letter repeats most of
the last one.  The box reads it as it reads a reply, by that message's
Message-ID.  Measured (bench/bandwidth.py, batches of 50 mixed mail, the box
holding the rest): text 622 -> 575 B/email, handshake included.

Up, a box's reply names its parent by Message-ID; the relay expands it against
the same two sources, any delivery to that box whose bytes retention still
keeps.  A reply that does not expand is refused alone, with the reason.

There is no index by Message-ID: the candidates are this box's recent mail, and
only the start of each payload is read to find its Message-ID (the field comes
before the body and the blobs), once per pouch or upload; of mail the
background had not prepared yet (packing converted it itself), the start of
its raw MIME, and the parent is converted again as packing would.
"""

import contextlib
import email.parser
import email.policy
import logging
import time
import weakref

import msgpack
import sqlalchemy as sa

from pouch import replies
from pouch.mime import headers
from relay import payload, quarantine
from relay.inbound import preparation
from relay.schema import deliveries, inbound, outbound

log = logging.getLogger(__name__)

DAY_S = 86400
DOWN_DAYS = 14  # acked or sent at most this long ago: the box keeps a deleted message's text 30 days
HEAD_BYTES = 8192  # of a payload: enough for the fields up to its Message-ID
MESSAGE_ID_FIELD = 9  # in a message's wire array: kind, id, from, to, cc, bcc, reply-to, subject, date, Message-ID
DELIVERY, UNPREPARED, SENT = "delivery", "unprepared", "sent"
SENDER_TRIES = 3  # of a sender's newest messages, the first that reads is the one packed against
# What the packed replies of one upload may expand to in all: the pouch's own stream is capped
# ([sync] max_upload_expanded_bytes), and a frame naming a big parent must not get round that.
UPLOAD_EXPANDED_BYTES = 256 * 1024 * 1024


def _field_of(head, position):
    """Field ``position`` of the message record in the first bytes of a payload, or None."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(bytes(head))
    try:
        unpacker.read_array_header()  # [record, blobs]
        if unpacker.read_array_header() <= position:
            return None
        for _ in range(position):
            unpacker.skip()
        return unpacker.unpack()
    except (msgpack.OutOfData, ValueError, TypeError):
        return None


def message_id_of(head):
    """The Message-ID in the first bytes of a payload (relay.payload), or None."""
    found = _field_of(head, MESSAGE_ID_FIELD)
    return found if isinstance(found, str) else None


def message_id_in_mime(head):
    """The Message-ID in the first bytes of raw MIME, as pouch.mime reads it, or None."""
    message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(bytes(head))
    return headers.first_message_id(message.get("message-id"))


FROM_FIELD = 2


def sender_of(head):
    """The first From address, lower-cased, in the first bytes of a payload, or None."""
    return _first_email(_field_of(head, FROM_FIELD))


def sender_in_mime(head):
    """The first From address, lower-cased, in the first bytes of raw MIME, or None."""
    message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(bytes(head))
    try:
        return _first_email([list(pair) for pair in headers.addresses(message.get_all("from"))])
    except Exception:  # noqa: BLE001 - a From nobody can read names no sender; the mail beside it packs on
        return None


def _first_email(addresses):
    if isinstance(addresses, list) and addresses and isinstance(addresses[0], list) and len(addresses[0]) == 2 \
            and isinstance(addresses[0][1], str) and "@" in addresses[0][1]:
        return addresses[0][1].lower()
    return None


READS = {DELIVERY: message_id_of, UNPREPARED: message_id_in_mime, SENT: message_id_of}
# Whose mail it is: the box's own sent mail is its users', never a correspondent's last letter.
SENDERS = {DELIVERY: sender_of, UNPREPARED: sender_in_mime}


class Parents:
    """The messages a box holds for sure, by Message-ID, read once and asked many times."""

    def __init__(self, db, box_id, acked_since=None, sources=(DELIVERY, UNPREPARED, SENT)):
        """``db``: an Engine, or the Connection of a transaction under way (takeover's)."""
        self._db, self._box_id, self._acked_since, self._sources = db, box_id, acked_since, sources
        self._index = self._by_sender = None
        self.expanded_bytes = 0  # of the replies expanded against them (expanded_up)

    def _connect(self):
        return self._db.connect() if isinstance(self._db, sa.engine.Engine) else contextlib.nullcontext(self._db)

    def bodies(self, message_id):
        """The bodies, newest first, of the messages called ``message_id`` the box holds (a
        Message-ID is only as unique as senders make it)."""
        for source, row_id in self._candidates().get(message_id, []):
            record = self._record(source, row_id)
            if record is not None and record.message_id == message_id and not replies.is_packed(record):
                yield record.body

    def body(self, message_id):
        """The newest such body, or None."""
        return next(self.bodies(message_id), None)

    def from_sender(self, address):
        """(Message-ID, body) of the newest message from ``address`` the box holds, or None."""
        self._candidates()
        for message_id, source, row_id in self._by_sender.get(address.lower(), [])[:SENDER_TRIES]:
            record = self._record(source, row_id)
            if record is not None and record.message_id == message_id and record.body \
                    and not replies.is_packed(record):
                return message_id, record.body
        return None

    def _candidates(self):
        if self._index is None:
            self._index, self._by_sender = {}, {}
            for source, row_id, head in self._heads():
                found = READS[source](head)
                if found:
                    self._index.setdefault(found, []).append((source, row_id))
                    sender = SENDERS[source](head) if source in SENDERS else None
                    if sender:
                        self._by_sender.setdefault(sender, []).append((found, source, row_id))
        return self._index

    def _delivered(self, column, *where):
        query = (sa.select(inbound.c.id, _head(column)).join(deliveries, deliveries.c.inbound_id == inbound.c.id)
                 .where(deliveries.c.box_id == self._box_id, *where).order_by(inbound.c.id.desc()))
        if self._acked_since is not None:  # acked, not marked done by an operator's mail drop
            query = query.where(deliveries.c.delivered_at >= self._acked_since, deliveries.c.dropped_at.is_(None))
        return query

    def _sent(self):
        query = sa.select(outbound.c.id, _head(outbound.c.payload)).where(
            outbound.c.box_id == self._box_id, sa.func.length(outbound.c.payload) > 0).order_by(outbound.c.id.desc())
        if self._acked_since is not None:
            query = query.where(sa.or_(outbound.c.done_at.is_(None), outbound.c.done_at >= self._acked_since))
        return query

    def _heads(self):
        queries = {
            DELIVERY: self._delivered(inbound.c.prepared, inbound.c.prepared.is_not(None)),
            UNPREPARED: self._delivered(inbound.c.raw, inbound.c.prepared.is_(None), inbound.c.cleared_at.is_(None)),
            SENT: self._sent(),
        }
        with self._connect() as db:
            return [(source, *row) for source, query in queries.items() if source in self._sources
                    for row in db.execute(query)]

    def _record(self, source, row_id):
        try:
            data = self._payload(source, row_id)
            return payload.unpack(data)[0] if data else None
        except quarantine.NOT_THE_MESSAGES:
            raise
        except Exception as error:  # noqa: BLE001 - mail that does not read is no parent; packing says why
            log.info("reply parent %s %s does not read: %s", source, row_id, error)
            return None

    def _payload(self, source, row_id):
        with self._connect() as db:
            if source == SENT:
                return db.execute(sa.select(outbound.c.payload).where(outbound.c.id == row_id)).scalar()
            row = db.execute(sa.select(inbound.c.prepared, inbound.c.raw, inbound.c.mail_from,
                                       inbound.c.received_at).where(inbound.c.id == row_id)).one()
        if row.prepared or not row.raw:
            return row.prepared
        return preparation.prepare(row.raw, row_id, row.mail_from, row.received_at)


def _head(column):
    return sa.func.substr(column, 1, HEAD_BYTES, type_=sa.LargeBinary)


_down = weakref.WeakKeyDictionary()  # PouchWriter -> Parents: one index per pouch


def _box_of(engine, delivery_id):
    with engine.connect() as db:
        return db.execute(sa.select(deliveries.c.box_id).where(deliveries.c.id == delivery_id)).scalar_one()


def packed_down(engine, writer, delivery_id, record, now=None, sent_only=False):
    """``record`` packed against its parent, else against the newest message from its sender,
    when the box holds that for sure and it pays, else ``record``.  ``writer``: the pouch it goes
    in (the box's mail is read once per pouch).  ``sent_only``: the pouch is packed against the
    pieces of the pouches the box took (relay.boxsync.history), which hold its mail that came
    down already: only a parent the box sent is worth packing against."""
    if not record.body or record.packed_body:
        return record
    parents = _down.get(writer)
    if parents is None:
        since = int(time.time() if now is None else now) - DOWN_DAYS * DAY_S
        parents = _down[writer] = Parents(engine, _box_of(engine, delivery_id), acked_since=since,
                                          sources=(SENT,) if sent_only else (DELIVERY, UNPREPARED, SENT))
    message_id = replies.parent_id(record)
    body = parents.body(message_id) if message_id else None
    packed = replies.compressed(record, message_id, body) if body is not None else None
    if packed is None and record.from_:
        last = parents.from_sender(record.from_[0][1])
        packed = replies.compressed(record, *last) if last and last[0] != record.message_id else None
    return packed or record


def expanded_up(parents, record):
    """(the record whole, None), or (None, why) when a packed reply of the box does not expand
    against ``parents`` (Parents of that box, on takeover's transaction)."""
    if not replies.is_packed(record):
        return record, None
    if parents.expanded_bytes > UPLOAD_EXPANDED_BYTES:
        return None, (f"the relay cannot read it: the replies of this upload expand to more than "
                      f"{UPLOAD_EXPANDED_BYTES >> 20} MB")
    why = replies.not_held(record)
    for body in parents.bodies(record.parent):
        try:
            whole = replies.expanded(record, body)
        except replies.ReplyError as error:
            why = error
        else:
            parents.expanded_bytes += len(whole.body)
            return whole, None
    return None, f"the relay cannot read it: {why}"
