"""The accounts table: what boxes ask for (AccountRecords), what operators do, which relay
process syncs which account, and how its syncing goes."""

import time

import sqlalchemy as sa

from pouch.records import ACCOUNT_ACTIVE, ACCOUNT_PAUSED, ACCOUNT_REMOVED
from relay import boxes
from relay.accounts import mailmap, sentcopies, statuses
from relay.accounts.errors import Stopped
from relay.schema import accounts
from relay.schema import boxes as boxes_table

MAX_ID = 64  # accounts.box_account_id
NEW = "new"  # sync_state before the first connection
STOPPED_BY_OPERATOR = "stopped by the relay's operator"


class AccountNotFound(LookupError):
    """No account with that address on this relay."""


def apply(db, box, records):
    """Create, update, pause or remove the accounts of ``box`` as its AccountRecords say.

    Runs in the transaction that takes the upload over.  Returns the problems of
    records that were left out (for the log).
    """
    problems = []
    for record in records:
        problem = _check(db, box, record)
        if problem:
            problems.append(f"account {record.id[:MAX_ID]!r}: {problem}")
        elif record.state == ACCOUNT_REMOVED:
            remove(db, box.id, record.id)
        else:
            _upsert(db, box, record)
    return problems


def _check(db, box, record):
    if not 0 < len(record.id) <= MAX_ID:
        return f"an id of {len(record.id)} characters"
    if record.state not in (ACCOUNT_ACTIVE, ACCOUNT_PAUSED, ACCOUNT_REMOVED):
        return f"unknown state {record.state!r}"
    if record.state != ACCOUNT_REMOVED and boxes.owners(db, [record.owner]).get(boxes.normal(record.owner)) != box.id:
        # Else a box could have the relay deliver an account's mail into another box.
        return f"the owner {record.owner!r} is not an address of box {box.name}"
    return None


def _upsert(db, box, record):
    now = int(time.time())
    row = db.execute(sa.select(accounts).where(
        accounts.c.box_id == box.id, accounts.c.box_account_id == record.id)).mappings().first()
    paused = record.state == ACCOUNT_PAUSED
    values = {"owner": boxes.normal(record.owner), "address": boxes.normal(record.address)[:320],
              "state": record.state, "updated_at": now}
    if record.sealed:
        values.update(sealed=record.sealed, next_attempt_at=0)  # new settings: try them at once
    if paused:
        values["sync_state"] = statuses.PAUSED
    elif row is None or row["state"] == ACCOUNT_PAUSED:
        values.update(sync_state=NEW, next_attempt_at=0)
    if row is None:
        db.execute(accounts.insert().values({"box_id": box.id, "box_account_id": record.id,
                                             "sealed": record.sealed, "created_at": now, **values}))
    else:
        db.execute(accounts.update().where(accounts.c.id == row["id"])
                   .values(version=accounts.c.version + 1, **values))
    if paused and (row is None or row["state"] != ACCOUNT_PAUSED):
        statuses.owe(db, box.id, record.id, statuses.PAUSED, synced_at=row and row["synced_at"])


def remove(db, box_id, box_account_id, why=""):
    """Delete the account with its sealed settings; the mail already queued stays."""
    account_id = db.execute(sa.select(accounts.c.id).where(
        accounts.c.box_id == box_id, accounts.c.box_account_id == box_account_id)).scalar()
    if account_id is not None:
        mailmap.forget(db, account_id)
        sentcopies.forget(db, account_id)
        db.execute(accounts.delete().where(accounts.c.id == account_id))
    statuses.owe(db, box_id, box_account_id, statuses.REMOVED, why)


# -- operators ------------------------------------------------------------------------------

def overview(engine):
    """Every account with its box, for `account list` and the status page."""
    with engine.connect() as db:
        return db.execute(sa.select(accounts.c.address, accounts.c.owner, accounts.c.state, accounts.c.sync_state,
                                    accounts.c.last_error, accounts.c.synced_at, boxes_table.c.name.label("box"))
                          .join(boxes_table, boxes_table.c.id == accounts.c.box_id)
                          .order_by(accounts.c.address, boxes_table.c.name)).mappings().all()


def set_state(engine, address, state):
    """Start (active) or stop (paused) every account of ``address``; returns how many."""
    now = int(time.time())
    with engine.begin() as db:
        rows = db.execute(sa.select(accounts).where(accounts.c.address == boxes.normal(address))).mappings().all()
        if not rows:
            raise AccountNotFound(f"no account {boxes.normal(address)} on this relay")
        for row in rows:
            if row["state"] == state:
                continue
            paused = state == ACCOUNT_PAUSED
            db.execute(accounts.update().where(accounts.c.id == row["id"]).values(
                state=state, sync_state=statuses.PAUSED if paused else NEW, next_attempt_at=0,
                last_error="", version=accounts.c.version + 1, updated_at=now))
            if paused:
                statuses.owe(db, row["box_id"], row["box_account_id"], statuses.PAUSED, STOPPED_BY_OPERATOR,
                             row["synced_at"])
    return len(rows)


# -- relay processes ------------------------------------------------------------------------

def claim(engine, token, lease_s):
    """Claim the active accounts no live process syncs, renew this process's claims and drop
    those no longer active; returns {account id: version} of the accounts this process runs."""
    now = time.time()
    live = sa.select(boxes_table.c.id).where(boxes_table.c.revoked_at.is_(None))
    runnable = sa.and_(accounts.c.state == ACCOUNT_ACTIVE, accounts.c.box_id.in_(live))
    with engine.begin() as db:
        db.execute(accounts.update().where(runnable, sa.or_(
            accounts.c.claimed_by.is_(None), accounts.c.lease_until < now,
            # renewed when half the lease is gone: one write per account per half lease
            sa.and_(accounts.c.claimed_by == token, accounts.c.lease_until < now + lease_s / 2),
        )).values(claimed_by=token, lease_until=now + lease_s))
        db.execute(accounts.update().where(accounts.c.claimed_by == token, sa.not_(runnable))
                   .values(claimed_by=None, lease_until=None))
        return dict(db.execute(sa.select(accounts.c.id, accounts.c.version)
                               .where(accounts.c.claimed_by == token)).all())


def release(engine, token):
    with engine.begin() as db:
        db.execute(accounts.update().where(accounts.c.claimed_by == token).values(claimed_by=None, lease_until=None))


def load(engine, account_id, token):
    """The account's row while this process holds it; Stopped otherwise."""
    with engine.connect() as db:
        return mine(db, account_id, token)


def mine(db, account_id, token):
    row = db.execute(sa.select(accounts).where(accounts.c.id == account_id, accounts.c.claimed_by == token)
                     .with_for_update()).mappings().first()
    if row is None or row["state"] != ACCOUNT_ACTIVE:
        raise Stopped(account_id)
    return row


def report(engine, account_id, token, state, error="", synced_at=None, next_attempt_at=None, new_mail=False):
    """Record how syncing goes; the box is owed a status when the state or error changed (or,
    with ``new_mail``, the new sync time rides along with the mail)."""
    values = {"sync_state": state, "last_error": error, "updated_at": int(time.time())}
    if synced_at is not None:
        values["synced_at"] = synced_at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with engine.begin() as db:
        row = mine(db, account_id, token)
        db.execute(accounts.update().where(accounts.c.id == account_id).values(values))
        synced = synced_at or row["synced_at"]
        if (row["sync_state"], row["last_error"]) != (state, error):
            statuses.owe(db, row["box_id"], row["box_account_id"], state, error, synced)
        elif synced_at is not None and not statuses.refresh(db, row["box_id"], row["box_account_id"], synced_at) \
                and new_mail:
            statuses.owe(db, row["box_id"], row["box_account_id"], state, error, synced)
