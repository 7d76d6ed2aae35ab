"""Importing a downloaded pouch: all of it in one transaction, or nothing.

The pouch's name joins the list of pouches to ack in that same transaction, so
a crash before the commit leaves nothing half-done and a crash after it never
imports the pouch twice (and the store skips a message it already holds).

Only what a bad pouch can cause is the pouch's fault: a stream that does not
read (UnreadablePouch, nothing imported), or one record the reader or the store
refuses for a stated reason (that one is set aside, the rest imported).  Any
other exception is a bug of the box and goes up as one."""

import functools
import logging
from dataclasses import dataclass, field

from appliance.store import blob_refs, held, incoming, other_address_records, outbox, relay_requests, set_aside, sync_state
from appliance.store import history, reply_parents
from pouch.container import HistoryMissing, PouchError, PouchReader, PouchWriter, route
from pouch.container.wire import kind_of
from pouch.replies import ReplyError
from pouch.records import BlobRecord

log = logging.getLogger(__name__)

MAX_RAW_BYTES = 512 * 1024 * 1024  # a pouch once decompressed; the relay caps its pouches far lower
MESSAGE = "message"  # the kind of a record the reader skipped that was mail


class UnreadablePouch(Exception):
    """The pouch cannot be read; nothing of it was imported and it stays unacked."""


class HistoryLacking(Exception):
    """The pouch was packed against pieces the box does not hold (appliance.store.history):
    nothing of it was imported, and the box forgot its pieces, so the relay packs it again."""


@dataclass
class Imported:
    messages: int = 0
    statuses: int = 0
    account_statuses: int = 0
    skipped: int = 0
    attachments: int = 0  # attachments whose bytes came after their message (big mail)
    read_elsewhere: int = 0  # copies marked read or unread as the account's server says
    set_aside: int = 0  # messages refused one by one, kept aside with their reason
    held: int = 0  # lines of the "Held as spam" folder (one per recipient)
    refused: int = 0  # users' requests the relay will not serve (the page says why)


@dataclass
class Contents:
    """What a pouch holds, as the importer takes it."""

    messages: list = field(default_factory=list)
    blobs: dict = field(default_factory=dict)  # sha256 -> bytes
    updates: list = field(default_factory=list)  # records of UPDATES' kinds, in pouch order
    skipped: list = field(default_factory=list)  # pouch.container.reader.SkippedRecord
    piece: bytes = b""  # its text, which later pouches may be packed against


@dataclass(frozen=True)
class Update:
    """A kind of record that changes what the box holds, applied after the pouch's mail."""

    apply: object  # (conn, record) -> how many of the box's rows it changed
    counter: str  # the field of Imported that counts them


UPDATES = {
    "status": Update(outbox.apply_status, "statuses"),  # the fate of mail the box sent
    "account status": Update(other_address_records.apply_status, "account_statuses"),
    "flag": Update(incoming.apply_server_read_state, "read_elsewhere"),  # read elsewhere: the box's copies follow
    "held": Update(held.apply, "held"),  # a message held on the relay as spam, in one line
    "refusal": Update(relay_requests.refused, "refused"),  # a request the relay will not serve, and why
}


def _message(contents, record):
    contents.messages.append(record)


def _blob(contents, record):
    contents.blobs[record.sha256] = record.data


def _update(contents, record):
    contents.updates.append(record)


# What reading does with each kind a relay sends (wire.sent_by(RELAY): a test holds them together).
TAKES = {"message": _message, "blob": _blob, **dict.fromkeys(UPDATES, _update)}


def read_pouch(path, pieces=lambda ids: None):
    """The Contents of the pouch at ``path``; UnreadablePouch if its stream does not read,
    HistoryLacking if it was packed against pieces that ``pieces(ids)`` does not give."""
    contents = Contents()
    try:
        with open(path, "rb") as source:
            reader = PouchReader(source, max_raw_bytes=MAX_RAW_BYTES, errors="skip", history=pieces, keep_piece=True)
            route(reader, {kind: functools.partial(take, contents) for kind, take in TAKES.items()}, "the box")
    except HistoryMissing as error:
        raise HistoryLacking(f"{path.name}: {error}") from None
    except PouchError as error:
        raise UnreadablePouch(f"{path.name}: {error}") from None
    for problem in reader.skipped:
        log.warning("pouch %s: record %d skipped: %s", path.name, problem.index, problem.reason)
    contents.skipped = reader.skipped
    contents.piece = reader.piece
    return contents


def _held_pieces(store, ids):
    with store.read() as conn:
        return history.pieces(conn, ids)


def import_pouch(store, path, name, keep_piece=True):
    """Import pouch file ``path`` (relay name ``name``) in one transaction; returns Imported.
    ``keep_piece``: False while the relay has not heard that the box forgot its pieces (it would
    take the new one for all of them)."""
    try:
        contents = read_pouch(path, functools.partial(_held_pieces, store))
    except HistoryLacking:
        with store.write() as conn:
            history.forget(conn)
        raise
    result = Imported(skipped=len(contents.skipped))
    with store.write() as conn:
        for record in contents.messages:
            try:  # a reply packed against its parent is whole again first
                incoming.deliver_incoming(store, conn, reply_parents.expanded(conn, record), contents.blobs)
                held.arrived(conn, [record.id])  # a held message brought: its line goes
                result.messages += 1
            except (incoming.RecordRefused, ReplyError) as error:  # raised before anything of it was written
                _set_aside_message(store, conn, name, record, contents.blobs, str(error))
                result.set_aside += 1
        for problem in contents.skipped:
            if problem.kind == MESSAGE:
                set_aside.add(conn, name, problem.reason, record_id=f"#{problem.index}",
                              summary=f"record {problem.index}")
                result.set_aside += 1
        result.attachments = incoming.store_awaited_blobs(store, conn, contents.blobs)
        blob_refs.arrived(store, conn, contents.messages, contents.blobs)  # named by the relay, or missing
        for record in contents.updates:
            update = UPDATES[kind_of(record).name]
            setattr(result, update.counter, getattr(result, update.counter) + update.apply(conn, record))
        if keep_piece:
            history.keep(conn, contents.piece, name)
        sync_state.add_unacked(conn, name)
        sync_state.forget_failures(conn, name)
    return result


def _set_aside_message(store, conn, name, record, blobs, reason):
    """Keep ``record`` (and its attachments' bytes) as a pouch of its own in the set-aside folder."""
    log.error("pouch %s: message %r set aside: %s", name, record.id[:80], reason)
    file = set_aside.file_name(name, record.id)
    with open(set_aside.folder(store) / file, "wb") as out, \
            PouchWriter(out, sender="relay", recipient=store.domain) as writer:
        for attachment in record.attachments:
            if attachment.sha256 in blobs:
                writer.add(BlobRecord(attachment.sha256, blobs[attachment.sha256]))
        writer.add(record)
    sender = record.from_[0][1] if record.from_ else ""
    set_aside.add(conn, name, reason, file=file, record_id=record.id, summary=f"{sender}: {record.subject}"[:300])
