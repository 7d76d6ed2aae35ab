"""What boxes are owed about their external accounts, as records owed (relay.owed), packed,
offered and acked exactly like the fate of sent mail:

- AccountStatusRecords.  At most one per account waits unpacked: a newer state
  replaces it, so a box that syncs once a night learns the last state, not every flap.
- FlagRecords, read state set on the account's server by another of the user's
  clients (message_id: the relay's record id), at most one waiting per message.
"""

import time

from pouch.records import AccountStatusRecord, FlagRecord
from relay import owed

KIND = "account status"
SYNCING, PAUSED, ERROR, REMOVED = "syncing", "paused", "error", "removed"


def owe(db, box_id, box_account_id, state, error="", synced_at=None):
    """Owe the box this account's state, replacing one that has not been packed yet."""
    owed.owe(db, box_id, AccountStatusRecord(box_account_id, state, int(time.time()), error, synced_at or 0),
             replace=True)


def refresh(db, box_id, box_account_id, synced_at):
    """A newer last-sync time for a record still waiting; True if there was one."""
    record = owed.waiting(db, box_id, KIND, box_account_id)
    if record is None:
        return False
    record.synced_at, record.at = synced_at, int(time.time())
    owed.owe(db, box_id, record, replace=True)
    return True


def owe_flag(db, box_id, inbound_id, seen):
    """Owe the box the server's read state of the message it knows as record ``inbound_id``."""
    owed.owe(db, box_id, FlagRecord(str(inbound_id), seen, int(time.time())), replace=True)
