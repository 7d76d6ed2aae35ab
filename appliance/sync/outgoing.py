"""Packing the outbox into one pouch file for the relay, within the sync's byte budget."""

from pouch.container import PouchWriter

RECIPIENT = "relay"


def size_of(record):
    return len(record.body.encode()) + sum(attachment.size for attachment in record.attachments)


def within_budget(records, budget):
    """Text first (messages without attachments, then the smaller), oldest first among
    equals, as many as ``budget`` bytes hold (0: no budget); the rest wait for the next
    sync, still in the Outbox.  A message bigger than the whole budget goes alone."""
    if not budget:
        return records
    chosen, total = [], 0
    for record in sorted(records, key=lambda r: (bool(r.attachments), size_of(r))):
        if total + size_of(record) <= budget or not chosen:
            chosen.append(record)
            total += size_of(record)
    return chosen


def pack_outbox(store, path, sender, budget=0):
    """Write queued mail (within ``budget`` bytes) to a pouch at ``path``; returns the uids packed."""
    records = within_budget(store.outbox(), budget)
    if not records:
        return []
    with open(path, "wb") as out, PouchWriter(out, sender=sender, recipient=RECIPIENT) as pouch:
        for record in records:
            for attachment in record.attachments:
                _add_attachment(store, pouch, attachment)
            pouch.add_message(record)
    return [record.id for record in records]


def _add_attachment(store, pouch, attachment):
    if pouch.has_blob(attachment.sha256):
        return
    path = store.blobs.path(attachment.sha256.hex())
    if path.is_file():  # a missing file: the relay reports that message failed, the rest go
        with open(path, "rb") as data:
            pouch.add_blob(attachment.sha256, data)
