"""What boxes are owed about their external accounts, as rows of the ``statuses`` table,
packed, offered and acked exactly like the fate of sent mail:

- kind "account": AccountStatusRecords.  At most one per account waits unpacked:
  a newer state replaces it, so a box that syncs once a night learns the last
  state, not every flap.
- kind "flag": FlagRecords, read state set on the account's server by another of
  the user's clients (message_id: the relay's record id; state "seen" or
  "unseen"), at most one waiting per message.
"""

import time

import sqlalchemy as sa

from pouch.records import AccountStatusRecord, FlagRecord
from relay.schema import statuses

KIND = "account"
FLAG_KIND = "flag"
SYNCING, PAUSED, ERROR, REMOVED = "syncing", "paused", "error", "removed"


def owe(db, box_id, box_account_id, state, error="", synced_at=None):
    """Owe the box this account's state, replacing one that has not been packed yet."""
    values = {"state": state, "reason": error, "at": int(time.time()), "synced_at": synced_at}
    waiting = _waiting(db, box_id, box_account_id)
    if waiting is not None:
        db.execute(statuses.update().where(statuses.c.id == waiting).values(values))
    else:
        db.execute(statuses.insert().values(box_id=box_id, message_id=box_account_id, kind=KIND, **values))


def refresh(db, box_id, box_account_id, synced_at):
    """A newer last-sync time for a record still waiting; True if there was one."""
    waiting = _waiting(db, box_id, box_account_id)
    if waiting is None:
        return False
    db.execute(statuses.update().where(statuses.c.id == waiting).values(synced_at=synced_at, at=int(time.time())))
    return True


def owe_flag(db, box_id, inbound_id, seen):
    """Owe the box the server's read state of the message it knows as record ``inbound_id``."""
    values = {"state": "seen" if seen else "unseen", "at": int(time.time())}
    waiting = _waiting(db, box_id, str(inbound_id), FLAG_KIND)
    if waiting is not None:
        db.execute(statuses.update().where(statuses.c.id == waiting).values(values))
    else:
        db.execute(statuses.insert().values(box_id=box_id, message_id=str(inbound_id), kind=FLAG_KIND, **values))


def _waiting(db, box_id, message_id, kind=KIND):
    return db.execute(sa.select(statuses.c.id).where(
        statuses.c.box_id == box_id, statuses.c.kind == kind, statuses.c.message_id == message_id,
        statuses.c.pouch_name.is_(None), statuses.c.delivered_at.is_(None))).scalar()


def add_to(writer, row):
    """Write the statuses row ``row`` to a pouch if it is about an account; False if it is not."""
    if row["kind"] == KIND:
        writer.add_account_status(AccountStatusRecord(row["message_id"], row["state"], row["at"], row["reason"],
                                                      row["synced_at"] or 0))
    elif row["kind"] == FLAG_KIND:
        writer.add_flag(FlagRecord(row["message_id"], row["state"] == "seen", row["at"]))
    else:
        return False
    return True
