"""The outbound queue: claiming messages to send, and recording what became of them.

At most once: a message is claimed (state ``sending``, committed) before the
transport sees it, and a claim is never handed to a transport again.  A claim
whose lease ran out belongs to a process that died mid-send; the message may
or may not have left, so it is failed with that reason rather than risk a
second copy.  Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
relay processes share the queue; SQLite runs the same single UPDATE under its
database-wide write lock.
"""

import json
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from pouch.records import STATUS_FAILED, STATUS_SENT, StatusRecord
from relay import backoff, owed
from relay.schema import outbound

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
INTERRUPTED = ("the relay stopped while sending it, so it may or may not have left; "
               "not retried so that it cannot go out twice")


@dataclass(frozen=True)
class Job:
    id: int
    box_id: int
    record_id: str
    recipients: list
    attempts: int


def exists(db, box_id, record_id):
    return db.execute(sa.select(outbound.c.id).where(
        outbound.c.box_id == box_id, outbound.c.record_id == record_id)).first() is not None


def enqueue(db, box_id, record_id, pouch_name, payload, recipients):
    """Queue one message for the internet ``recipients`` (none: routed locally, done)."""
    now = time.time()
    done = not recipients
    db.execute(outbound.insert().values(
        box_id=box_id, record_id=record_id, pouch_name=pouch_name, payload=payload if not done else b"",
        recipients=json.dumps(recipients), size=len(payload), state=SENT if done else QUEUED,
        next_attempt_at=now, created_at=int(now), done_at=int(now) if done else None))
    if done:
        add_status(db, box_id, record_id, STATUS_SENT, "delivered on this relay")


def refuse(db, box_id, record_id, pouch_name, reason):
    """Record a message that cannot be sent at all, and tell its box why."""
    now = int(time.time())
    db.execute(outbound.insert().values(
        box_id=box_id, record_id=record_id, pouch_name=pouch_name, payload=b"", recipients="[]", size=0,
        state=FAILED, last_error=reason, next_attempt_at=now, created_at=now, done_at=now))
    add_status(db, box_id, record_id, STATUS_FAILED, reason)


def add_status(db, box_id, message_id, state, reason=""):
    """Owe the box the fate of its message ``message_id``."""
    owed.owe(db, box_id, StatusRecord(message_id, state, int(time.time()), reason))


def claim(engine, limit, lease_s):
    """Claim up to ``limit`` due messages for this process; returns Jobs."""
    token = uuid.uuid4().hex
    now = time.time()
    due = (sa.select(outbound.c.id)
           .where(outbound.c.state == QUEUED, outbound.c.next_attempt_at <= now)
           .order_by(outbound.c.next_attempt_at, outbound.c.id)
           .limit(limit).with_for_update(skip_locked=True))
    with engine.begin() as db:
        db.execute(outbound.update().where(outbound.c.id.in_(due.scalar_subquery()))
                   .values(state=SENDING, claimed_by=token, next_attempt_at=now + lease_s))
        # Without their payloads: each is read when its turn comes, so memory holds one message.
        columns = (outbound.c.id, outbound.c.box_id, outbound.c.record_id, outbound.c.recipients, outbound.c.attempts)
        rows = db.execute(sa.select(*columns).where(
            outbound.c.claimed_by == token, outbound.c.state == SENDING)).mappings().all()
    return [Job(row["id"], row["box_id"], row["record_id"], json.loads(row["recipients"]), row["attempts"])
            for row in rows]


def payload_of(engine, job):
    """The stored message of a claimed job (relay.payload)."""
    with engine.connect() as db:
        return db.execute(sa.select(outbound.c.payload).where(outbound.c.id == job.id)).scalar_one()


def extend_claim(engine, job, lease_s, waiting=()):
    """Give a claimed job ``lease_s`` from now as its send starts, and the jobs ``waiting`` behind
    it as long (their turn comes after it); False when the claim on ``job`` is no longer this
    process's (it was reported interrupted meanwhile)."""
    until = time.time() + lease_s
    with engine.begin() as db:
        ours = db.execute(outbound.update().where(outbound.c.id == job.id, outbound.c.state == SENDING)
                          .values(next_attempt_at=until)).rowcount == 1
        if waiting:
            db.execute(outbound.update().where(outbound.c.id.in_([w.id for w in waiting]),
                                               outbound.c.state == SENDING).values(next_attempt_at=until))
    return ours


def mark_sent(engine, job, note=""):
    _finish(engine, job, SENT, note)


def mark_failed(engine, job, reason):
    _finish(engine, job, FAILED, reason)


def _finish(engine, job, state, reason):
    with engine.begin() as db:
        # Once its fate is known a failed message's content goes; a sent one's stays as inbound
        # mail's does after the ack, for replies to it, until relay.retention clears it.
        dropped = {} if state == SENT else {"payload": b""}
        # Only a claim still ours: one reported interrupted meanwhile has its fate, and its status.
        if db.execute(outbound.update().where(outbound.c.id == job.id, outbound.c.state == SENDING).values(
                state=state, last_error=reason, done_at=int(time.time()), attempts=job.attempts + 1,
                **dropped)).rowcount:
            add_status(db, job.box_id, job.record_id, STATUS_SENT if state == SENT else STATUS_FAILED, reason)


def retry_later(engine, job, reason, policy):
    """Put ``job`` back for a later attempt, or fail it once its attempts are spent."""
    attempts = job.attempts + 1
    if attempts >= policy.max_attempts:
        mark_failed(engine, job, f"gave up after {attempts} attempts: {reason}")
        return
    with engine.begin() as db:
        db.execute(outbound.update().where(outbound.c.id == job.id, outbound.c.state == SENDING).values(
            state=QUEUED, attempts=attempts, last_error=reason, claimed_by=None,
            next_attempt_at=time.time() + backoff.delay(policy, attempts)))


def release(engine, job):
    """Give back a claim that was never handed to a transport."""
    with engine.begin() as db:
        db.execute(outbound.update().where(outbound.c.id == job.id, outbound.c.state == SENDING)
                   .values(state=QUEUED, claimed_by=None, next_attempt_at=time.time()))


def fail_interrupted(engine):
    """Fail the claims whose lease ran out (their process died mid-send); returns how many."""
    expired = (sa.select(outbound.c.id, outbound.c.box_id, outbound.c.record_id)
               .where(outbound.c.state == SENDING, outbound.c.next_attempt_at < time.time())
               .with_for_update(skip_locked=True))
    with engine.begin() as db:
        failed = 0
        for row in db.execute(expired).all():
            # Conditional, so that two SQLite processes cannot both report the same message.
            if db.execute(outbound.update().where(outbound.c.id == row.id, outbound.c.state == SENDING).values(
                    state=FAILED, last_error=INTERRUPTED, done_at=int(time.time()), payload=b"")).rowcount:
                add_status(db, row.box_id, row.record_id, STATUS_FAILED, INTERRUPTED)
                failed += 1
    return failed
