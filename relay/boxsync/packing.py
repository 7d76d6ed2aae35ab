"""Packing a box's pending mail into pouches, each capped in raw bytes (a
message over the cap travels alone).  The records owed to the box (relay.owed)
ride in the first pouch.  Messages come as relay.inbound.preparation left them, so packing
mostly compresses.

Big mail travels in two parts.  Its record (text, and each attachment's name
and size) goes right after the small mail; its attachments follow in pouches
of their own, made after every record pouch.  A box whose byte budget
stops before them shows the message at once, its attachments marked as
coming, and fetches them at a later sync.

An attachment over the box's automatic limit stays behind as a placeholder
(relay.boxsync.placeholders); what a box asks for (relay.boxsync.requests)
follows the records like big mail's attachments.  A blob the box holds already
(relay.boxsync.holdings) stays out: the record names it, the box has the bytes.

A message that cannot be packed (its payload does not read, its record would
be refused, whatever it raises) is set aside (relay.quarantine) and the pouch
carries the rest.
"""

import asyncio
import functools
import hashlib
import io
import json
import time
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from pouch.container.history import History
from pouch.container.writer import PouchWriter
from pouch.records import BlobRecord
from relay import owed, payload, quarantine
from relay.boxsync import history, holdings, placeholders, requests
from relay.boxsync import reply_parents
from relay.inbound import preparation
from relay.spam import holding
from relay.schema import deliveries, inbound, pouches, records_owed, requested_blobs

DOWN = "down"
OFFERED, ACKED = history.OFFERED, history.ACKED


class PackingConflict(Exception):
    """Another process packed some of the same mail first; its pouch wins."""


def pouch_name(box, direction):
    """A new pouch name of ``box``; names sort in the order they were made."""
    return f"{box.name}/{direction}/{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.pouch"


def plan(pending, max_bytes, cost=lambda row: row.size):
    """Split (id, size) rows, in their order, into (ids, cost) chunks of at most ``max_bytes`` each
    (a row that costs more travels alone)."""
    chunks, current, total = [], [], 0
    for row in pending:
        if current and total + cost(row) > max_bytes:
            chunks.append((current, total))
            current, total = [], 0
        current.append(row.id)
        total += cost(row)
    return chunks + [(current, total)] if current else chunks


def pack_level(config, mail_bytes):
    """Level 19 on a small pouch costs a fraction of a second; a big one gets the bulk level."""
    return config.bulk_pack_level if mail_bytes > config.bulk_pack_bytes else config.pack_level


def pending_deliveries(db, box_id):
    """(id, size) of the deliveries whose record has not been packed, oldest first."""
    return db.execute(sa.select(deliveries.c.id, deliveries.c.size).where(
        deliveries.c.box_id == box_id, deliveries.c.pouch_name.is_(None), holding.PACKABLE,
        deliveries.c.delivered_at.is_(None), deliveries.c.quarantined_at.is_(None)).order_by(deliveries.c.id)).all()


def pending_attachments(db, box_id):
    """(id, size) of big deliveries whose record was packed and whose attachments were not."""
    return db.execute(sa.select(deliveries.c.id, deliveries.c.size).where(
        deliveries.c.box_id == box_id, deliveries.c.blobs_later.is_(True),
        deliveries.c.blobs_pouch_name.is_(None), deliveries.c.blobs_delivered_at.is_(None),
        deliveries.c.quarantined_at.is_(None)).order_by(deliveries.c.id)).all()




@dataclass
class Contents:
    """What one pouch carries: delivery ids whose record (and maybe attachments) it holds,
    those whose attachments follow later, those whose attachments alone it holds, the rows of
    records owed to the box (relay.owed), the ids of blobs it asked for (relay.boxsync.requests);
    and about how many bytes of mail that is."""

    records: list = field(default_factory=list)
    split: list = field(default_factory=list)
    attachments: list = field(default_factory=list)
    owed: list = field(default_factory=list)
    requested: list = field(default_factory=list)
    limits: placeholders.Limits | None = None  # the box's; None: [sync] attachment_limit
    packed_limits: dict = field(default_factory=dict)  # delivery id -> the limit its record was packed under
    mail_bytes: int = 0
    # (delivery id, pouch column, reason, inbound id if it was converted here) of mail that would not pack
    set_aside: list = field(default_factory=list)
    keeps_history: bool = False  # the box keeps pieces: this pouch's is kept (relay.boxsync.history)
    history: History = field(default_factory=History)  # the pieces it is packed against
    piece: bytes = b""  # its own, once written

    def empty(self):
        return not (self.records or self.attachments or self.owed or self.requested)


def _prepared_rows(engine, delivery_ids):
    """The deliveries' rows with their prepared payloads, in the order of ``delivery_ids``."""
    with engine.connect() as db:
        rows = db.execute(sa.select(deliveries.c.id.label("delivery_id"), deliveries.c.recipients,
                                    deliveries.c.size, deliveries.c.packed_limit, inbound.c.id, inbound.c.prepared)
                          .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                          .where(deliveries.c.id.in_(delivery_ids))).all()
    order = {delivery_id: index for index, delivery_id in enumerate(delivery_ids)}
    return sorted(rows, key=lambda r: order[r.delivery_id])


def no_extra(engine, delivery_ids):
    return {}


def write_pouch(engine, settings, box, name, contents, extra=no_extra):
    """The bytes of one pouch holding ``contents``; fills in ``contents.split``, and moves the
    deliveries that would not pack out of ``contents`` into ``contents.set_aside``.
    ``extra(engine, delivery ids)``: {delivery id: what its MessageRecord.extra gains}."""
    buffer = io.BytesIO()
    with PouchWriter(buffer, sender=settings.relay.domain, recipient=box.name, pouch_id=name,
                     level=pack_level(settings.sync, contents.mail_bytes), history=contents.history,
                     keep_piece=contents.keeps_history) as pouch, \
            holdings.withholding(engine, box, name, pouch) as writer:  # blobs the box holds stay out
        for row in contents.owed:
            writer.add(owed.record_of(row))
        tags = extra(engine, contents.records)
        contents.records = _each(engine, box, contents, contents.records, deliveries.c.pouch_name,
                                 lambda row: _add_message(engine, settings, writer, contents, row, tags))
        contents.attachments = _each(engine, box, contents, contents.attachments, deliveries.c.blobs_pouch_name,
                                     lambda row: _add_attachments(writer, placeholders.sent(
                                         *_payload(engine, row), row.packed_limit)))
        contents.requested = requests.write(engine, writer, box, contents.requested)
    contents.piece = pouch.piece or b""
    return buffer.getvalue()


def _each(engine, box, contents, delivery_ids, column, add):
    """``add`` each delivery's row to the pouch; returns the ids that went in.  The others
    are set aside at the stage whose pouch goes in ``column``; one the background had not
    converted yet is set aside whole, or the background would only fail on it again."""
    added = []
    for row in _prepared_rows(engine, delivery_ids):
        try:
            add(row)
        except quarantine.NOT_THE_MESSAGES:
            raise
        except Exception as error:  # noqa: BLE001 - whatever else it is, it is this message's: the rest go on
            why = quarantine.logged(error, "pack", box=box.name, delivery=row.delivery_id, inbound=row.id)
            contents.set_aside.append((row.delivery_id, column, why, row.id if row.prepared is None else None))
        else:
            added.append(row.delivery_id)
    return added


def _add_message(engine, settings, writer, contents, row, tags):
    """Write one delivery's record, then its blobs unless they follow later.  Nothing is
    written for it unless all of it can be: the writer checks a record before writing it,
    and the blobs are checked first."""
    record, blobs = _payload(engine, row)
    record.recipients = json.loads(row.recipients)
    record.extra.update(tags.get(row.delivery_id, {}))
    limit = (contents.limits or placeholders.Limits(settings.sync.attachment_limit)).of(record.recipients)
    blobs = placeholders.hold(record, blobs, limit)  # only what it sends: "later" counts those
    blobs = writer.unheld(blobs)  # nor what the box holds (relay.boxsync.holdings)
    contents.packed_limits[row.delivery_id] = limit
    later = bool(blobs) and len(record.body) + sum(map(len, blobs.values())) > settings.sync.big_message_bytes
    if not later:
        _check_blobs(blobs)
    # A reply: against its parent (of the box's sent mail only, when the pieces hold the rest).
    writer.add(reply_parents.packed_down(engine, writer, row.delivery_id, record, sent_only=bool(contents.history)))
    if later:
        contents.split.append(row.delivery_id)
    else:
        _write_blobs(writer, blobs)


def _payload(engine, row):
    return payload.unpack(row.prepared or prepare_now(engine, row.id))


def _add_attachments(writer, blobs):
    _check_blobs(blobs)
    _write_blobs(writer, blobs)


def _check_blobs(blobs):
    """Before the first chunk of a message's blobs is written: half its blobs would reach the box."""
    for digest, data in blobs.items():
        if not isinstance(data, bytes) or hashlib.sha256(data).digest() != digest:
            raise ValueError(f"attachment {bytes(digest).hex()[:16]}…: its bytes do not match their sha256")


def _write_blobs(writer, blobs):
    for digest, data in blobs.items():
        writer.add(BlobRecord(digest, data))


def prepare_now(engine, inbound_id):
    """Mail the background has not prepared yet is converted here, during the sync."""
    with engine.connect() as db:
        row = db.execute(sa.select(inbound.c.raw, inbound.c.mail_from, inbound.c.received_at)
                         .where(inbound.c.id == inbound_id)).one()
    return preparation.prepare(row.raw, inbound_id, row.mail_from, row.received_at)


def record_pouch(engine, box, name, data, contents):
    """Offer pouch ``name``; raises PackingConflict if some of its mail was packed meanwhile."""
    claims = ((deliveries.c.pouch_name, contents.records), (deliveries.c.blobs_pouch_name, contents.attachments),
              (records_owed.c.pouch_name, [row.id for row in contents.owed]),
              (requested_blobs.c.pouch_name, contents.requested))
    with engine.begin() as db:
        db.execute(pouches.insert().values(
            name=name, box_id=box.id, direction=DOWN, state=OFFERED, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), created_at=int(time.time())))
        for column, ids in claims:
            table = column.table
            if ids and db.execute(table.update().where(table.c.id.in_(ids), column.is_(None))
                                  .values({column.name: name})).rowcount != len(ids):
                raise PackingConflict(name)
        if contents.split:
            db.execute(deliveries.update().where(deliveries.c.id.in_(contents.split)).values(blobs_later=True))
        if contents.records:
            db.execute(deliveries.update().where(deliveries.c.id == sa.bindparam("packed_id"))
                       .values(packed_limit=sa.bindparam("limit_used")),
                       [{"packed_id": d, "limit_used": contents.packed_limits[d]} for d in contents.records])
        if contents.keeps_history:
            history.record(db, box, name, contents.piece, contents.history)


async def pack_pending(engine, store, settings, box, extra=no_extra, newest_piece=None):
    """Pack everything pending for ``box`` into new pouches, records before the attachments
    that follow them; returns the pouches' names.  ``extra``: as for write_pouch (the sync
    handshake passes the external accounts' tags).  ``newest_piece``: what the box's request
    said of its pieces (relay.boxsync.sync.history_in)."""
    config = settings.sync
    await asyncio.to_thread(holding.hold, engine, settings, box)  # spam stays on the relay (relay.spam)
    box_limits = functools.partial(placeholders.of_box, default=config.attachment_limit)
    rows, owed_rows, limits = await asyncio.to_thread(_read, engine, box, pending_deliveries, owed.pending, box_limits)
    big = config.big_message_bytes  # big mail's record goes after the small mail; its attachments later still
    rows = sorted(rows, key=lambda row: (row.size > big, row.id))
    chunks = [Contents(records=ids, mail_bytes=size, limits=limits)
              for ids, size in plan(rows, config.pouch_max_bytes, lambda row: min(row.size, big))]
    if owed_rows:
        chunks = chunks or [Contents()]
        chunks[0].owed = owed_rows
    if newest_piece is not None and chunks:
        # One History for all: its dictionary is digested once.  Attachments' pouches go without.
        pieces = History(await asyncio.to_thread(history.pieces_for, engine, box, newest_piece))
        for contents in chunks:
            contents.keeps_history, contents.history = True, pieces
    names, finished = await _pack(engine, store, settings, box, chunks, extra)
    if not finished:
        return names
    asked, later = await asyncio.to_thread(_read, engine, box, requests.pending, pending_attachments)
    # What users asked for comes before the attachments that follow by themselves.
    chunks = ([Contents(requested=ids, mail_bytes=size) for ids, size in plan(asked, config.pouch_max_bytes)]
              + [Contents(attachments=ids, mail_bytes=size) for ids, size in plan(later, config.pouch_max_bytes)])
    more, _ = await _pack(engine, store, settings, box, chunks)
    return names + more


def _read(engine, box, *queries):
    with engine.connect() as db:
        return [query(db, box.id) for query in queries]


async def _pack(engine, store, settings, box, chunks, extra=no_extra):
    """Write and offer each chunk's pouch: (names, False if another process packed some first)."""
    names = []
    for contents in chunks:
        name = pouch_name(box, DOWN)
        data = await asyncio.to_thread(write_pouch, engine, settings, box, name, contents, extra)
        if contents.set_aside:
            await asyncio.to_thread(quarantine.set_aside_deliveries, engine, contents.set_aside)
        if contents.empty():
            continue
        await store.put_bytes(name, data)
        try:
            await asyncio.to_thread(record_pouch, engine, box, name, data, contents)
        except (PackingConflict, sa.exc.IntegrityError):
            await store.delete(name)
            return names, False
        names.append(name)
    return names, True
