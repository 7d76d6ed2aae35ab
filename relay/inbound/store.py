"""Storing inbound mail durably and queueing it once per box it is for, once per recipient.

Senders retry: SendGrid after a timeout or a 5xx, an SMTP server that lost our
250.  A recipient who got a message (same Message-ID, or the same bytes when it
has none) within ``[inbound] dedupe_days`` does not get it again, and the
sender still hears that it was stored.  The ``inbound_once`` unique key decides,
so a retry racing its first copy (one group commit, two relay processes on
PostgreSQL) is one delivery too.
"""

import asyncio
import hashlib
import json
import logging
import time
from email.parser import BytesHeaderParser

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pouch.limits import MAX_RECIPIENTS
from pouch.mime import headers, policies
from relay import boxes, retention  # module, not DAY_S: retention -> takeover -> here
from relay.schema import deliveries, inbound, inbound_once
from relay.settings import Inbound

log = logging.getLogger(__name__)

MAX_ADDRESS_CHARS = 320  # RFC 5321: 64 for the local part, 255 for the domain, the @
_BLANK_LINE = (b"\r\n\r\n", b"\n\n")


class NoRecipient(LookupError):
    """None of the recipients belongs to a box of this relay: the sender should get a bounce."""


class Refused(ValueError):
    """The envelope cannot be taken as it is (its reason is for the sender); nothing was stored."""


def check_address(address, what="a recipient"):
    """Refuse an envelope address no database should see: not text, control characters,
    lone surrogates (bytes that were not UTF-8), longer than any mailbox."""
    if not isinstance(address, str):
        raise Refused(f"{what} must be a string, not {type(address).__name__}")
    if len(address) > MAX_ADDRESS_CHARS:
        raise Refused(f"{what} is longer than {MAX_ADDRESS_CHARS} characters")
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(f"{what} is not valid UTF-8") from None
    if not address.isprintable():
        raise Refused(f"{what} holds control characters")


def check(recipients, mail_from):
    """What every inbound path checks before a message joins a transaction: the recipients
    it may go to.  An address no mailbox can have is left out like any other that is not
    ours, so it never bounces the mail for the others; Refused if none is left."""
    if len(recipients) > MAX_RECIPIENTS:
        raise Refused(f"more than {MAX_RECIPIENTS} recipients")
    check_address(mail_from, "the envelope sender")
    usable, refusals = [], []
    for address in recipients:
        try:
            check_address(address)
            usable.append(address)
        except Refused as error:
            refusals.append(error)
    if refusals and not usable:
        raise refusals[0]
    if refusals:
        log.info("inbound recipients left out count=%d reason=%r", len(refusals), str(refusals[0]))
    return usable


def store(db, raw, recipients, source, mail_from="", spam_score=None, owned=None, dedupe_days=Inbound.dedupe_days):
    """Keep ``raw`` and queue it for every box owning one of ``recipients`` that did not get it
    within ``dedupe_days``.

    Runs inside the caller's transaction (``db``), so the caller acknowledges
    only after its commit.  ``owned``: boxes.owners() of the recipients, when
    the caller looked them up already; ``spam_score``: SendGrid's.  Returns {box_id: [addresses]} of the new
    deliveries: empty when every recipient had it already.
    """
    routed = boxes.by_box(boxes.owners(db, recipients) if owned is None else owned, recipients)
    if not routed:
        raise NoRecipient(f"no mailbox here for {', '.join(sorted(set(recipients))) or 'nobody'}")
    fresh = first_deliveries(db, routed, once_key(raw), dedupe_days)
    if fresh:
        keep(db, raw, fresh, source, mail_from, spam_score)
    return fresh


def once_key(raw):
    """What makes two arrivals the same message: its Message-ID, else its bytes."""
    message_id = message_id_of(raw)
    basis = b"id:" + message_id.encode("utf-8", "surrogateescape") if message_id else b"raw:" + bytes(raw)
    return hashlib.sha256(basis).hexdigest()


def message_id_of(raw):
    """The Message-ID of raw MIME (its header block only is parsed), or None."""
    header = BytesHeaderParser(policy=policies.PARSING).parsebytes(header_block(bytes(raw)))
    return headers.first_message_id(header.get("message-id"))


def header_block(raw):
    """The header block of raw MIME: up to its first blank line."""
    return raw[:min((found for found in map(raw.find, _BLANK_LINE) if found >= 0), default=len(raw))]


def first_deliveries(db, routed, key, dedupe_days, now=None):
    """The part of ``routed`` ({box_id: [addresses]}) that has not had message ``key`` within
    ``dedupe_days``; claims it."""
    now = int(time.time() if now is None else now)
    cutoff = now - dedupe_days * retention.DAY_S
    fresh = {}
    for box_id, addresses in routed.items():
        claimed = [address for address in addresses if _claim(db, box_id, address, key, now, cutoff)]
        if claimed:
            fresh[box_id] = claimed
    return fresh


def _claim(db, box_id, address, key, now, cutoff):
    # One statement, so that the unique key decides: a concurrent claim waits for this
    # transaction and then finds the row; an expired row is taken over.
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(inbound_once).values(box_id=box_id, address=address, key=key, seen_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[inbound_once.c.box_id, inbound_once.c.address, inbound_once.c.key],
        set_={"seen_at": now}, where=inbound_once.c.seen_at < cutoff)
    return db.execute(statement).rowcount == 1


def forget_some(engine, dedupe_days, now=None, limit=5000):
    """Drop up to ``limit`` claims older than the window; returns how many."""
    cutoff = int(time.time() if now is None else now) - dedupe_days * retention.DAY_S
    with engine.begin() as db:
        ids = db.execute(sa.select(inbound_once.c.id).where(inbound_once.c.seen_at < cutoff)
                         .order_by(inbound_once.c.seen_at).limit(limit)).scalars().all()
        if ids:
            db.execute(inbound_once.delete().where(inbound_once.c.id.in_(ids)))
    return len(ids)


def keep(db, raw, routed, source, mail_from="", spam_score=None):
    """Keep ``raw`` and queue it for ``routed`` ({box_id: [addresses]}); returns its inbound id."""
    now = int(time.time())
    inbound_id = db.execute(inbound.insert(), {
        "received_at": now, "source": source, "mail_from": mail_from[:MAX_ADDRESS_CHARS], "size": len(raw),
        "raw": raw, "sendgrid_spam_score": spam_score,
    }).inserted_primary_key[0]
    db.execute(deliveries.insert(), [
        {"inbound_id": inbound_id, "box_id": box_id, "recipients": json.dumps(addresses),
         "size": len(raw), "created_at": now}
        for box_id, addresses in routed.items()
    ])
    return inbound_id


def store_now(engine, raw, recipients, source, mail_from="", dedupe_days=Inbound.dedupe_days):
    """``store`` in a transaction of its own, committed (durable) when this returns."""
    with engine.begin() as db:
        return store(db, raw, recipients, source, mail_from, dedupe_days=dedupe_days)


class GroupCommit:
    """Stores messages arriving together in one transaction: one disk sync for many.

    Each caller still gets its own answer (the new deliveries, or NoRecipient)
    only after the commit that made its message durable.  Envelopes are checked
    before they join a batch, and should the batch's transaction fail anyway,
    each message is tried again alone: one bad message never fails the others.
    """

    def __init__(self, engine, dedupe_days=Inbound.dedupe_days, max_batch=64):
        self.engine = engine
        self.dedupe_days = dedupe_days
        self.max_batch = max_batch
        self._waiting = []
        self._drainer = None  # the task committing; kept so that it is not garbage-collected

    async def store(self, raw, recipients, source, mail_from="", spam_score=None):
        """The new deliveries of ``raw`` once committed; raises Refused, NoRecipient or the
        database's error."""
        recipients = check(recipients, mail_from)
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(((raw, recipients, source, mail_from, spam_score), future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self):
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
                try:
                    outcomes = await asyncio.to_thread(self._commit, [args for args, _ in batch])
                except Exception as error:  # noqa: BLE001 - not even alone could they be stored
                    outcomes = [error] * len(batch)
                for (_, future), outcome in zip(batch, outcomes):
                    if future.done():  # its caller went away
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._drainer = None

    def _commit(self, batch):
        try:
            return self._commit_together(batch)
        except Exception:
            if len(batch) == 1:
                raise
            log.exception("inbound group commit failed; storing its %d messages one by one", len(batch))
        return [self._commit_alone(args) for args in batch]

    def _commit_together(self, batch):
        outcomes = []
        with self.engine.begin() as db:
            owned = boxes.owners(db, {address for args in batch for address in args[1]})
            for args in batch:
                try:
                    outcomes.append(store(db, *args, owned=owned, dedupe_days=self.dedupe_days))
                except NoRecipient as error:  # raised before it wrote anything
                    outcomes.append(error)
        return outcomes

    def _commit_alone(self, args):
        try:
            return self._commit_together([args])[0]
        except Exception as error:
            log.exception("inbound message not stored source=%s", args[2])
            return error
