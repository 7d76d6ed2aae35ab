"""Packing what the relay is owed into one pouch file: the outbox within the sync's byte
budget, and the external accounts' changes and read states, users' requests and verdicts
and the box's settings (a few bytes each, always)."""

import logging

from pouch.container import PouchWriter
from pouch.container.wire import RecordError
from pouch.records import BY_REFERENCE, BlobRecord

from appliance.store import blob_refs, other_address_flags, other_address_records, outbox, relay_requests
from appliance.store import reply_parents
from appliance.store.sync_state import Contents

RECIPIENT = "relay"
log = logging.getLogger(__name__)


def size_of(record, kept=frozenset()):
    """Bytes ``record`` costs an upload; attachments in ``kept`` (the relay holds them) none."""
    return len(record.body.encode()) + sum(a.size for a in record.attachments if a.sha256 not in kept)


def within_budget(records, budget, kept=frozenset()):
    """Text first (messages without attachments, then the smaller), oldest first among
    equals, as many as ``budget`` bytes hold (0: no budget); the rest wait for the next
    sync, still in the Outbox.  A message bigger than the whole budget goes alone."""
    if not budget:
        return records
    chosen, total = [], 0
    for record in sorted(records, key=lambda r: (bool(r.attachments), size_of(r, kept))):
        if total + size_of(record, kept) <= budget or not chosen:
            chosen.append(record)
            total += size_of(record, kept)
    return chosen


def pack(store, path, sender, budget=0):
    """Write a pouch at ``path`` of queued mail (within ``budget`` bytes), account records,
    flag records and the small records of ``relay_requests``; returns the
    ``sync_state.Contents`` it holds, or None when the relay is owed nothing."""
    queued = store.outbox()
    records = within_budget(queued, budget, blob_refs.kept(store, queued) if budget else frozenset())
    with store.read() as conn:
        accounts, versions = other_address_records.pending(conn)
        flags, flag_ids = other_address_flags.pending(conn)
        owed, owed_ids = relay_requests.pending(conn)
    if not (records or accounts or flags or owed):
        return None
    with open(path, "wb") as out, PouchWriter(out, sender=sender, recipient=RECIPIENT) as pouch:
        for record in [*accounts, *flags, *owed]:
            pouch.add(record)
        packed = [record for record in records if _add_message(store, pouch, record)]
    return Contents(uids=[record.id for record in packed], accounts=versions, flags=flag_ids, owed=owed_ids)


def _add_message(store, pouch, record):
    """Add one outbox message; False when the relay would refuse it (the writer checks each
    record as the relay reads it): it fails here, with the reason, and the rest go."""
    for attachment in record.attachments:
        _add_attachment(store, pouch, record, attachment)
    try:
        with store.read() as conn:  # a reply: against its parent, which the relay holds
            pouch.add(reply_parents.packed_up(conn, record))
    except RecordError as error:  # nothing of it was written but bytes no record names
        log.error("outbox message %s cannot be sent: %s", record.id, error)
        with store.write() as conn:
            outbox.mark_failed(conn, [record.id], f"this message cannot be sent as it is: {error}")
        return False
    return True


def _add_attachment(store, pouch, record, attachment):
    if pouch.has_blob(attachment.sha256):
        return
    if blob_refs.relay_keeps(store, attachment.sha256):
        record.extra[BY_REFERENCE] = True  # the record names it: the relay holds its bytes
        return
    path = store.attachment_files.path(attachment.sha256.hex())
    if path.is_file():  # a missing file: the relay reports that message failed, the rest go
        with open(path, "rb") as data:
            pouch.add(BlobRecord(attachment.sha256, data))
