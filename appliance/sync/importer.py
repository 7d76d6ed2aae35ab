"""Importing a downloaded pouch: all of it in one transaction, or nothing.

The pouch's name joins the list of pouches to ack in that same transaction, so
a crash before the commit leaves nothing half-done and a crash after it never
imports the pouch twice (and the store skips a message it already holds)."""

import logging
from dataclasses import dataclass

from appliance.store import account_records, incoming, outbox, sync_state
from pouch.container import PouchError, PouchReader
from pouch.records import AccountStatusRecord, BlobRecord, FlagRecord, MessageRecord, StatusRecord

log = logging.getLogger(__name__)

MAX_RAW_BYTES = 512 * 1024 * 1024  # a pouch once decompressed; the relay caps its pouches far lower


class UnreadablePouch(Exception):
    """The pouch cannot be read; nothing of it was imported and it stays unacked."""


@dataclass
class Imported:
    messages: int = 0
    statuses: int = 0
    account_statuses: int = 0
    skipped: int = 0
    attachments: int = 0  # attachments whose bytes came after their message (big mail)
    read_elsewhere: int = 0  # copies marked read or unread as the account's server says


def read_pouch(path):
    """(messages, {sha256: bytes}, statuses, skipped count) of the pouch at ``path``;
    ``statuses`` holds StatusRecords, AccountStatusRecords and FlagRecords."""
    messages, blobs, statuses = [], {}, []
    try:
        with open(path, "rb") as source:
            reader = PouchReader(source, max_raw_bytes=MAX_RAW_BYTES, errors="skip")
            for record in reader:
                if isinstance(record, MessageRecord):
                    messages.append(record)
                elif isinstance(record, BlobRecord):
                    blobs[record.sha256] = record.data
                elif isinstance(record, (StatusRecord, AccountStatusRecord, FlagRecord)):
                    statuses.append(record)
    except PouchError as error:
        raise UnreadablePouch(f"{path.name}: {error}") from None
    for problem in reader.skipped:
        log.warning("pouch %s: record %d skipped: %s", path.name, problem.index, problem.reason)
    return messages, blobs, statuses, len(reader.skipped)


def import_pouch(store, path, name):
    """Import pouch file ``path`` (relay name ``name``) in one transaction; returns Imported."""
    messages, blobs, statuses, skipped = read_pouch(path)
    result = Imported(skipped=skipped)
    try:
        with store.write() as conn:
            for record in messages:
                incoming.deliver_incoming(store, conn, record, blobs)
                result.messages += 1
            result.attachments = incoming.store_awaited_blobs(store, conn, blobs)
            for status in statuses:
                if isinstance(status, AccountStatusRecord):
                    result.account_statuses += account_records.apply_status(conn, status)
                elif isinstance(status, FlagRecord):  # read elsewhere: the box's copies follow
                    result.read_elsewhere += incoming.apply_server_read_state(conn, status)
                else:
                    result.statuses += outbox.apply_status(conn, status)
            sync_state.add_unacked(conn, name)
    except (ValueError, TypeError, KeyError) as error:  # a record the store cannot take: none is kept
        raise UnreadablePouch(f"{path.name} cannot be imported: {error}") from None
    return result
