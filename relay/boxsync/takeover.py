"""Taking over a pouch a box uploaded: its messages join the outbound queue, its
AccountRecords change the box's external accounts, its FlagRecords are kept as
read state to set on those accounts' servers.

Idempotent: the pouch row moves from ``expected`` to ``taken`` in the same
transaction that queues its messages and applies its other records, and a
message already queued for that box (same record id, from any pouch) is never
queued again.

Trusting no box: a message goes on only from an address its box owns, within
pouch.limits; any other comes back to the box as a failed status with the
reason, and the messages beside it go on.  Memory stays bounded whatever a
pouch expands to: the upload is read from a file, its message records are
kept in a file as they are read and its blobs spilled to files chunk by chunk
(a blob no message may carry is only counted), so one message at a time is in
memory, with at most its attachments within the limit.
"""

import asyncio
import functools
import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
import sqlalchemy as sa

from pouch import limits, mime
from pouch.container.errors import PouchError, PouchTooLarge
from pouch.container.reader import PouchReader
from pouch.container import route, wire
from pouch.records import STATUS_FAILED
from relay import boxes, payload
from relay.accounts import mailmap, registry
from relay.boxsync import holdings, requests
from relay.boxsync import reply_parents
from relay.inbound import store as inbound
from relay.outbound import queue
from relay.schema import pouches
from relay.spam import boxsettings, verdicts
from relay.settings import MB

log = logging.getLogger(__name__)

UP = "up"
EXPECTED, TAKEN, REJECTED = "expected", "taken", "rejected"
MAX_RECORD_ID = 255  # outbound.record_id
MAX_STATUS_ID = 1000  # records_owed.subject: a longer id is nothing a box could match; logged only
# Records of one upload (messages, blob chunks, accounts, flags): far more than a pouch of the
# largest upload holds of real mail, and what bounds the memory its index and refusals take.
MAX_UPLOAD_RECORDS = 200_000
SPILL_FOLDER = "takeover"  # in the relay's data_dir: never a tmpfs that would hold blobs in memory


class TakeoverError(Exception):
    """The pouch cannot be taken over (yet, or at all)."""


@dataclass(frozen=True)
class Blob:
    size: int
    path: Path | None  # None: too big for any message, not kept


@dataclass
class Upload:
    """What an uploaded pouch carries, and the records that had to be skipped."""

    messages: "_Messages" = None
    blobs: dict = field(default_factory=dict)  # sha256 -> Blob
    accounts: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    verdicts: list = field(default_factory=list)  # VerdictRecords (relay.spam.verdicts)
    box_settings: list = field(default_factory=list)  # BoxSettingsRecords (relay.spam.boxsettings)
    requests: list = field(default_factory=list)  # RequestRecords (relay.boxsync.requests)
    refused: list = field(default_factory=list)  # (record id, reason) of messages that do not read
    skipped: list = field(default_factory=list)

    def blobs_of(self, message):
        """{sha256: bytes} of the blobs ``message`` needs that the pouch holds."""
        wanted = {attachment.sha256 for attachment in message.attachments}
        return {digest: self.blobs[digest].path.read_bytes() for digest in wanted
                if digest in self.blobs and self.blobs[digest].path is not None}


class _Messages:
    """Message records kept in a file as they are read, given back one at a time."""

    def __init__(self, path):
        self._file = open(path, "w+b")
        self._where = {}  # id (or a digest of a long one) -> (offset, length); a repeated id is the same message

    def add(self, record):
        key = record.id if len(record.id) <= MAX_STATUS_ID else hashlib.sha256(record.id.encode()).digest()
        if key in self._where:
            return
        data = msgpack.packb(wire.encode(record), use_bin_type=True)
        self._where[key] = (self._file.seek(0, 2), len(data))
        self._file.write(data)

    def __len__(self):
        return len(self._where)

    def __iter__(self):
        for offset, length in list(self._where.values()):
            self._file.seek(offset)
            yield wire.decode(msgpack.unpackb(self._file.read(length), raw=False, strict_map_key=False))

    def close(self):
        self._file.close()


class _Spill:
    """Writes each blob's chunks to a file of its own, as they are read."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.blobs = {}
        self._file = self._sha256 = None
        self._written = 0

    def add(self, chunk):
        if chunk.offset == 0:
            self._start(chunk)
        elif chunk.sha256 != self._sha256 or chunk.offset != self._written:
            self.close()  # the reader refused a chunk of this blob: it is not whole
            return
        if self._file is not None:
            self._file.write(chunk.data)
        self._written += len(chunk.data)
        if chunk.last:
            path = self._path(chunk.sha256) if self._file is not None else None
            self.close()
            self.blobs[chunk.sha256] = Blob(chunk.size, path)

    def _start(self, chunk):
        self.close()
        self._sha256 = chunk.sha256
        if chunk.size <= limits.MAX_MESSAGE_BYTES:  # else only its size matters: read past it
            self._file = open(self._path(chunk.sha256), "wb")

    def close(self):
        """Close the blob being written; unless its last chunk came, it is not one of ``blobs``."""
        if self._file is not None:
            self._file.close()
        self._file = self._sha256 = None
        self._written = 0

    def _path(self, sha256):
        return self.folder / sha256.hex()


def read_upload(path, max_raw_bytes, folder):
    """The Upload in the pouch file at ``path``, its records and blobs kept in ``folder``;
    PouchError if unreadable."""
    upload = Upload(messages=_Messages(Path(folder) / "messages"))
    try:
        with open(path, "rb") as file:
            reader = PouchReader(file, max_raw_bytes=max_raw_bytes, errors="skip", blob_chunks=True)
            if reader.header.count > MAX_UPLOAD_RECORDS:
                raise PouchTooLarge(f"it declares {reader.header.count} records; an upload may hold "
                                    f"{MAX_UPLOAD_RECORDS}")
            upload.blobs = _read_records(reader, upload, _Spill(folder))
    except BaseException:
        upload.messages.close()
        raise
    for problem in reader.skipped:
        if problem.record_id:
            upload.refused.append((problem.record_id, f"the relay cannot read this message: {problem.reason}"))
        else:
            upload.skipped.append(problem.reason)
    return upload


def _message(upload, spill, record):
    upload.messages.add(record)


def _blob(upload, spill, chunk):
    spill.add(chunk)


def _account(upload, spill, record):
    upload.accounts.append(record)  # in order: a later record of an account wins


def _flag(upload, spill, record):
    upload.flags.append(record)


def _verdict(upload, spill, record):
    upload.verdicts.append(record)


def _box_settings(upload, spill, record):
    upload.box_settings.append(record)  # in order: the last one wins


def _request(upload, spill, record):
    upload.requests.append(record)


# What takeover does with each kind a box sends (wire.sent_by(BOX): a test holds them together).
TAKES = {"message": _message, "blob": _blob, "account": _account, "flag": _flag,
         "verdict": _verdict, "box settings": _box_settings, "request": _request}


def _read_records(reader, upload, spill):
    """Sort the records of ``reader`` into ``upload``; returns the blobs spilled."""
    try:
        route(reader, {kind: functools.partial(take, upload, spill) for kind, take in TAKES.items()}, "the relay")
    finally:
        spill.close()
    return spill.blobs


def refusal(db, box, message, upload, relay_domain):
    """Why ``message`` may not go on, or None."""
    if not 0 < len(message.id) <= MAX_RECORD_ID:
        return f"its id has {len(message.id)} characters; the relay takes 1 to {MAX_RECORD_ID}"
    recipients = {email.strip().lower() for _, email in message.to + message.cc + message.bcc}
    if len(recipients) > limits.MAX_RECIPIENTS:
        return f"it has {len(recipients)} recipients; at most {limits.MAX_RECIPIENTS} can be sent at once"
    size = sum(upload.blobs[a.sha256].size if a.sha256 in upload.blobs else a.size for a in message.attachments)
    if size > limits.MAX_MESSAGE_BYTES:
        return (f"its attachments come to {size / MB:.1f} MB; "
                f"at most {limits.MAX_MESSAGE_BYTES / MB:.0f} MB can be sent")
    senders = [email for _, email in message.from_]
    if not senders:
        return "it has no sender (From)"
    if foreign := boxes.foreign(db, box.id, senders, relay_domain):
        return (f"it is sent from {', '.join(foreign)}, which is not an address of this box "
                "(its users' addresses and the outside addresses they registered)")
    return None


def take(engine, box, name, upload, relay_domain):
    """Take pouch ``name`` over: queue each new message, apply the account and flag records;
    returns how many messages were new, None if the pouch was no longer expected."""
    with engine.begin() as db:
        claimed = db.execute(pouches.update().where(
            pouches.c.name == name, pouches.c.box_id == box.id, pouches.c.state == EXPECTED,
        ).values(state=TAKEN, done_at=int(time.time()))).rowcount
        if not claimed:
            return None
        # Accounts first: a message sent from an account may come in the same pouch.
        for problem in registry.apply(db, box, upload.accounts):
            log.warning("upload record skipped box=%s pouch=%s reason=%r", box.name, name, problem)
        mailmap.want_seen(db, box.id, upload.flags)
        boxsettings.apply(db, box, upload.box_settings)
        requests.apply(db, box, upload.requests)
        for record_id, reason in upload.refused:
            _refuse(db, box, name, record_id, reason)
        fresh, parents = 0, reply_parents.Parents(db, box.id)
        for packed in upload.messages:
            if holdings.queued(db, box.id, packed.id):
                continue
            fresh += 1
            message, reason = reply_parents.expanded_up(parents, packed)  # a reply packed against its parent
            message = message or packed
            reason = reason or refusal(db, box, message, upload, relay_domain)
            if reason:
                _refuse(db, box, name, message.id, reason)
            else:
                try:
                    blobs = holdings.complete(db, box.id, message, upload.blobs_of(message))
                except holdings.Unresolved as error:  # named by reference, not held for this box
                    holdings.hold_back(db, box, name, message.id, error)
                else:
                    _queue_one(db, box, name, message, blobs)
        holdings.uploaded(db, box.id, name, [digest for digest, blob in upload.blobs.items() if blob.path])
    return fresh


def _refuse(db, box, name, record_id, reason):
    log.warning("upload message refused box=%s pouch=%s id=%r reason=%r", box.name, name, record_id[:80], reason)
    if len(record_id) > MAX_STATUS_ID:
        return
    if len(record_id) > MAX_RECORD_ID:  # too long for the queue: the status alone tells the box
        queue.add_status(db, box.id, record_id, STATUS_FAILED, reason)
    elif not queue.exists(db, box.id, record_id):
        queue.refuse(db, box.id, record_id, name, reason)


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


async def _refuse_upload(engine, store, box, name, error):
    """Reject upload ``name`` and delete its bytes: nothing the relay refused stays on its disk."""
    await asyncio.to_thread(reject, engine, box, name, error)
    await store.delete(name)
    raise TakeoverError(f"{name}: {error}")


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
        if state is not None:  # refused or expired: whatever the box put there since goes too
            await store.delete(name)
        raise TakeoverError(f"{name} is not an upload this relay expects from this box")
    try:
        size = await store.size(name)
    except Exception as error:  # noqa: BLE001 - not (fully) uploaded: the box may upload again
        raise TakeoverError(f"{name} cannot be read from the blob store: {error}") from None
    if size > settings.sync.max_upload_bytes:
        await _refuse_upload(engine, store, box, name,
                             f"{size} bytes is over this relay's upload limit of {settings.sync.max_upload_bytes}")
    spill_root = Path(settings.relay.data_dir) / SPILL_FOLDER
    spill_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spill_root) as folder:
        path = Path(folder) / "upload.pouch"
        try:
            await store.get_file(name, path)
        except Exception as error:  # noqa: BLE001 - any store's failure: the box may upload again
            raise TakeoverError(f"{name} cannot be read from the blob store: {error}") from None
        try:
            upload = await asyncio.to_thread(read_upload, path, settings.sync.max_upload_expanded_bytes, folder)
        except PouchError as error:
            await _refuse_upload(engine, store, box, name, f"not a readable pouch: {error}")
        for reason in upload.skipped:
            log.warning("upload record skipped box=%s pouch=%s reason=%r", box.name, name, reason)
        try:
            new = await asyncio.to_thread(take, engine, box, name, upload, settings.relay.domain)
        finally:
            upload.messages.close()
    if new is not None:  # taken now: its verdicts train the box's filter (spamd, after the commit)
        await asyncio.to_thread(verdicts.train, engine, settings, box, upload.verdicts)
    if new is None and await asyncio.to_thread(state_of, engine, box, name) != TAKEN:  # expired meanwhile
        raise TakeoverError(f"{name} is not an upload this relay expects from this box")
    log.info("upload taken box=%s pouch=%s messages=%d new=%d refused=%d accounts=%d flags=%d", box.name, name,
             len(upload.messages), new or 0, len(upload.refused), len(upload.accounts), len(upload.flags))
    await store.delete(name)
    return True
