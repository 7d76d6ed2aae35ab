"""Taking over a pouch a box uploaded: its messages join the outbound queue, its
AccountRecords change the box's external accounts, its FlagRecords are kept as
read state to set on those accounts' servers.

Idempotent: the pouch row moves from ``expected`` to ``taken`` in the same
transaction that queues its messages and applies its other records, and a
message already queued for that box (same record id, from any pouch) is never
queued again.
"""

import asyncio
import io
import logging
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from pouch import mime
from pouch.container.errors import PouchError
from pouch.container.reader import PouchReader
from pouch.records import AccountRecord, BlobRecord, FlagRecord, MessageRecord
from relay import boxes, inbound, payload
from relay.accounts import mailmap, registry
from relay.outbound import queue
from relay.schema import pouches

log = logging.getLogger(__name__)

UP = "up"
EXPECTED, TAKEN, REJECTED = "expected", "taken", "rejected"
MAX_RECORD_ID = 255  # outbound.record_id


class TakeoverError(Exception):
    """The pouch cannot be taken over (yet, or at all)."""


@dataclass
class Upload:
    """What an uploaded pouch carries, and the records that had to be skipped."""

    messages: list = field(default_factory=list)
    blobs: dict = field(default_factory=dict)  # sha256 -> bytes
    accounts: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def read_upload(data, max_raw_bytes):
    """The Upload in pouch bytes ``data``; PouchError if unreadable."""
    reader = PouchReader(io.BytesIO(data), max_raw_bytes=max_raw_bytes, errors="skip")
    upload, messages = Upload(), {}
    for record in reader:
        if isinstance(record, MessageRecord) and 0 < len(record.id) <= MAX_RECORD_ID:
            messages.setdefault(record.id, record)  # a repeated id is the same message
        elif isinstance(record, MessageRecord):
            upload.skipped.append(f"a message id of {len(record.id)} characters")
        elif isinstance(record, BlobRecord):
            upload.blobs[record.sha256] = record.data
        elif isinstance(record, AccountRecord):
            upload.accounts.append(record)  # in order: a later record of an account wins
        elif isinstance(record, FlagRecord):
            upload.flags.append(record)
    upload.messages = list(messages.values())
    upload.skipped += [problem.reason for problem in reader.skipped]
    return upload


def take(engine, box, name, upload):
    """Take pouch ``name`` over: queue each new message, apply the account and flag records;
    returns how many messages were new (0 if taken before)."""
    with engine.begin() as db:
        claimed = db.execute(pouches.update().where(
            pouches.c.name == name, pouches.c.box_id == box.id, pouches.c.state == EXPECTED,
        ).values(state=TAKEN, done_at=int(time.time()))).rowcount
        if not claimed:
            return 0
        # Accounts first: a message sent from an account may come in the same pouch.
        for problem in registry.apply(db, box, upload.accounts):
            log.warning("upload record skipped box=%s pouch=%s reason=%r", box.name, name, problem)
        mailmap.want_seen(db, box.id, upload.flags)
        fresh = [m for m in upload.messages if not queue.exists(db, box.id, m.id)]
        for message in fresh:
            _queue_one(db, box, name, message, upload.blobs)
    return len(fresh)


def _queue_one(db, box, name, message, blobs):
    everyone = {email.lower() for _, email in message.to + message.cc + message.bcc if "@" in email}
    routed = boxes.route(db, everyone)
    own = set(routed.pop(box.id, []))  # the box delivered its own users' copies itself
    local = {address for addresses in routed.values() for address in addresses}
    if local:
        try:
            raw = mime.build(message, blobs)
        except mime.MimeError as error:  # e.g. an attachment whose blob the pouch lacks
            queue.refuse(db, box.id, message.id, name, f"cannot be turned into mail: {error}")
            return
        sender = message.from_[0][1] if message.from_ else ""
        inbound.store(db, raw, sorted(local), f"box:{box.name}", sender)
    remote = sorted(everyone - local - own)
    queue.enqueue(db, box.id, message.id, name, payload.pack(message, blobs), remote)


def reject(engine, box, name, error):
    with engine.begin() as db:
        db.execute(pouches.update().where(
            pouches.c.name == name, pouches.c.box_id == box.id, pouches.c.state == EXPECTED,
        ).values(state=REJECTED, error=str(error)[:1000], done_at=int(time.time())))


def state_of(engine, box, name):
    """The state of upload ``name`` of this box, or None when it is not one of its uploads."""
    with engine.connect() as db:
        return db.execute(sa.select(pouches.c.state).where(
            pouches.c.name == name, pouches.c.box_id == box.id, pouches.c.direction == UP)).scalar()


async def take_over(engine, store, settings, box, name):
    """Take over upload ``name``; returns True once it is taken (now or before)."""
    state = await asyncio.to_thread(state_of, engine, box, name)
    if state == TAKEN:
        return True
    if state != EXPECTED:
        raise TakeoverError(f"{name} is not an upload this relay expects from this box")
    try:
        size = await store.size(name)
        data = await store.get_bytes(name) if size <= settings.sync.max_upload_bytes else None
    except Exception as error:  # not (fully) uploaded: the box may upload again
        raise TakeoverError(f"{name} cannot be read from the blob store: {error}") from None
    if data is None:
        error = f"{size} bytes is over this relay's upload limit of {settings.sync.max_upload_bytes}"
        await asyncio.to_thread(reject, engine, box, name, error)
        raise TakeoverError(f"{name}: {error}")
    try:
        upload = await asyncio.to_thread(read_upload, data, settings.sync.max_upload_expanded_bytes)
    except PouchError as error:
        await asyncio.to_thread(reject, engine, box, name, error)
        raise TakeoverError(f"{name} is not a readable pouch: {error}") from None
    for reason in upload.skipped:
        log.warning("upload record skipped box=%s pouch=%s reason=%r", box.name, name, reason)
    new = await asyncio.to_thread(take, engine, box, name, upload)
    log.info("upload taken box=%s pouch=%s messages=%d new=%d accounts=%d flags=%d", box.name, name,
             len(upload.messages), new, len(upload.accounts), len(upload.flags))
    await store.delete(name)
    return True
