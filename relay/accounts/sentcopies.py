"""Copies for an account's Sent folder that could not be put there when the mail left.

The mail itself was sent (the account's SMTP server took it); only its copy
waits.  The account's session puts the due copies in Sent after each round (the
supervisor wakes it when one is due), backing off copy by copy, and gives a
copy up after MAX_ATTEMPTS, in the log.
"""

import logging
import time

import sqlalchemy as sa

from relay import backoff
from relay.accounts.errors import AccountError
from relay.schema import sent_copies

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 48  # with the default backoff (10 s doubling, at most 15 min): about half a day
BATCH = 10


def keep(engine, account_id, raw, error, config):
    """Keep ``raw`` for the account's Sent folder; the first APPEND failed with ``error``."""
    now = time.time()
    with engine.begin() as db:
        db.execute(sent_copies.insert().values(account_id=account_id, raw=raw, attempts=1, last_error=str(error),
                                               next_attempt_at=now + config.backoff_s, created_at=int(now)))


def put_due(engine, account_id, connection, folder, config):
    """Append the account's due copies to ``folder``; returns how many went in."""
    with engine.connect() as db:
        due = db.execute(sa.select(sent_copies.c.id, sent_copies.c.raw, sent_copies.c.attempts).where(
            sent_copies.c.account_id == account_id, sent_copies.c.next_attempt_at <= time.time(),
        ).order_by(sent_copies.c.id).limit(BATCH)).all()
    done = 0
    for copy in due:
        try:
            connection.append(folder, copy.raw)
        except AccountError as error:
            _failed(engine, account_id, copy, error, config)
            break  # the connection may be gone: the session finds out at its next command
        with engine.begin() as db:
            db.execute(sent_copies.delete().where(sent_copies.c.id == copy.id))
        done += 1
    return done


def _failed(engine, account_id, copy, error, config):
    attempts = copy.attempts + 1
    with engine.begin() as db:
        if attempts > MAX_ATTEMPTS:
            log.warning("account=%d sent copy %d given up after %d attempts: %s", account_id, copy.id,
                        copy.attempts, error)
            db.execute(sent_copies.delete().where(sent_copies.c.id == copy.id))
            return
        db.execute(sent_copies.update().where(sent_copies.c.id == copy.id).values(
            attempts=attempts, next_attempt_at=time.time() + backoff.delay(config, attempts), last_error=str(error)))


def accounts_due(engine, account_ids):
    """Those of ``account_ids`` with a copy due now: their sessions are woken to file it."""
    if not account_ids:
        return []
    with engine.connect() as db:
        return db.execute(sa.select(sent_copies.c.account_id).distinct().where(
            sent_copies.c.account_id.in_(account_ids), sent_copies.c.next_attempt_at <= time.time())).scalars().all()


def forget(db, account_id):
    db.execute(sent_copies.delete().where(sent_copies.c.account_id == account_id))
