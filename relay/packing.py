"""Packing a box's pending mail into pouches: oldest first, text before big
attachments, each pouch capped in raw bytes (a message over the cap travels
alone).  The status records owed to the box ride in the first pouch.
Messages come as relay.preparation left them, so packing mostly compresses.
"""

import asyncio
import hashlib
import io
import json
import time
import uuid

import sqlalchemy as sa

from pouch.container.writer import PouchWriter
from pouch.records import StatusRecord
from relay import payload, preparation
from relay.schema import deliveries, inbound, pouches, statuses

DOWN = "down"
OFFERED, ACKED = "offered", "acked"


class PackingConflict(Exception):
    """Another process packed some of the same mail first; its pouch wins."""


def pouch_name(box, direction):
    """A new pouch name of ``box``; names sort in the order they were made."""
    return f"{box.name}/{direction}/{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.pouch"


def plan(pending, max_bytes, big_bytes):
    """Split pending (id, size) rows into pouch-sized lists of ids, small ones first."""
    ordered = sorted(pending, key=lambda row: (row.size > big_bytes, row.id))
    chunks, current, total = [], [], 0
    for row in ordered:
        if current and total + row.size > max_bytes:
            chunks.append(current)
            current, total = [], 0
        current.append(row.id)
        total += row.size
    return chunks + [current] if current else chunks


def pending_deliveries(db, box_id):
    return db.execute(sa.select(deliveries.c.id, deliveries.c.size).where(
        deliveries.c.box_id == box_id, deliveries.c.pouch_name.is_(None),
        deliveries.c.delivered_at.is_(None)).order_by(deliveries.c.id)).all()


def pending_statuses(db, box_id):
    return db.execute(sa.select(statuses).where(
        statuses.c.box_id == box_id, statuses.c.pouch_name.is_(None),
        statuses.c.delivered_at.is_(None)).order_by(statuses.c.id)).mappings().all()


def write_pouch(engine, settings, box, name, delivery_ids, status_rows):
    """The bytes of one pouch holding these deliveries and statuses."""
    with engine.connect() as db:
        rows = db.execute(sa.select(deliveries.c.id.label("delivery_id"), deliveries.c.recipients,
                                    inbound.c.id, inbound.c.prepared)
                          .join(inbound, inbound.c.id == deliveries.c.inbound_id)
                          .where(deliveries.c.id.in_(delivery_ids))).all()
    order = {delivery_id: index for index, delivery_id in enumerate(delivery_ids)}
    buffer = io.BytesIO()
    with PouchWriter(buffer, sender=settings.relay.domain, recipient=box.name, pouch_id=name,
                     level=settings.sync.pack_level) as writer:
        for status in status_rows:
            writer.add_status(StatusRecord(status["message_id"], status["state"], status["at"], status["reason"]))
        for row in sorted(rows, key=lambda r: order[r.delivery_id]):
            record, blobs = payload.unpack(row.prepared or prepare_now(engine, row.id))
            record.recipients = json.loads(row.recipients)
            for digest, data in blobs.items():
                writer.add_blob(digest, data)
            writer.add_message(record)
    return buffer.getvalue()


def prepare_now(engine, inbound_id):
    """Mail the background has not prepared yet is converted here, during the sync."""
    with engine.connect() as db:
        row = db.execute(sa.select(inbound.c.raw, inbound.c.mail_from).where(inbound.c.id == inbound_id)).one()
    return preparation.prepare(row.raw, inbound_id, row.mail_from)


def record_pouch(engine, box, name, data, delivery_ids, status_ids):
    """Offer pouch ``name``; raises PackingConflict if some of its mail was packed meanwhile."""
    with engine.begin() as db:
        db.execute(pouches.insert().values(
            name=name, box_id=box.id, direction=DOWN, state=OFFERED, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), created_at=int(time.time())))
        for table, ids in ((deliveries, delivery_ids), (statuses, status_ids)):
            if ids and db.execute(table.update().where(table.c.id.in_(ids), table.c.pouch_name.is_(None))
                                  .values(pouch_name=name)).rowcount != len(ids):
                raise PackingConflict(name)


async def pack_pending(engine, store, settings, box):
    """Pack everything pending for ``box`` into new pouches; returns their names."""
    def pending():
        with engine.connect() as db:
            return pending_deliveries(db, box.id), pending_statuses(db, box.id)

    rows, status_rows = await asyncio.to_thread(pending)
    chunks = plan(rows, settings.sync.pouch_max_bytes, settings.sync.big_message_bytes)
    if not chunks and status_rows:
        chunks = [[]]
    names = []
    for index, delivery_ids in enumerate(chunks):
        owed = status_rows if index == 0 else []
        name = pouch_name(box, DOWN)
        data = await asyncio.to_thread(write_pouch, engine, settings, box, name, delivery_ids, owed)
        await store.put_bytes(name, data)
        try:
            await asyncio.to_thread(record_pouch, engine, box, name, data, delivery_ids,
                                    [status["id"] for status in owed])
        except (PackingConflict, sa.exc.IntegrityError):
            await store.delete(name)
            break
        names.append(name)
    return names
