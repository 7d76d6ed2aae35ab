"""AccountStatusRecords owed to boxes: rows of the ``statuses`` table of kind "account",
packed, offered and acked exactly like the fate of sent mail.

At most one such record per account waits unpacked: a newer state replaces it,
so a box that syncs once a night learns the last state, not every flap.
"""

import time

import sqlalchemy as sa

from pouch.records import AccountStatusRecord
from relay.schema import statuses

KIND = "account"
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


def _waiting(db, box_id, box_account_id):
    return db.execute(sa.select(statuses.c.id).where(
        statuses.c.box_id == box_id, statuses.c.kind == KIND, statuses.c.message_id == box_account_id,
        statuses.c.pouch_name.is_(None), statuses.c.delivered_at.is_(None))).scalar()


def add_to(writer, row):
    """Write the statuses row ``row`` to a pouch if it is an account's; False if it is not."""
    if row["kind"] != KIND:
        return False
    writer.add_account_status(AccountStatusRecord(row["message_id"], row["state"], row["at"], row["reason"],
                                                  row["synced_at"] or 0))
    return True
