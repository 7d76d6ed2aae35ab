"""Storing inbound mail durably and queueing it once per box it is for."""

import asyncio
import json
import time

from relay import boxes
from relay.schema import deliveries, inbound


class NoRecipient(LookupError):
    """None of the recipients belongs to a box of this relay: the sender should get a bounce."""


def store(db, raw, recipients, source, mail_from="", owned=None):
    """Keep ``raw`` and queue it for every box owning one of ``recipients``.

    Runs inside the caller's transaction (``db``), so the caller acknowledges
    only after its commit.  ``owned``: boxes.owners() of the recipients, when
    the caller looked them up already.  Returns {box_id: [addresses]}.
    """
    routed = boxes.by_box(boxes.owners(db, recipients) if owned is None else owned, recipients)
    if not routed:
        raise NoRecipient(f"no mailbox here for {', '.join(sorted(set(recipients))) or 'nobody'}")
    keep(db, raw, routed, source, mail_from)
    return routed


def keep(db, raw, routed, source, mail_from=""):
    """Keep ``raw`` and queue it for ``routed`` ({box_id: [addresses]}); returns its inbound id."""
    now = int(time.time())
    inbound_id = db.execute(inbound.insert(), {
        "received_at": now, "source": source, "mail_from": mail_from[:320], "size": len(raw), "raw": raw,
    }).inserted_primary_key[0]
    db.execute(deliveries.insert(), [
        {"inbound_id": inbound_id, "box_id": box_id, "recipients": json.dumps(addresses),
         "size": len(raw), "created_at": now}
        for box_id, addresses in routed.items()
    ])
    return inbound_id


def store_now(engine, raw, recipients, source, mail_from=""):
    """``store`` in a transaction of its own, committed (durable) when this returns."""
    with engine.begin() as db:
        return store(db, raw, recipients, source, mail_from)


class GroupCommit:
    """Stores messages arriving together in one transaction: one disk sync for many.

    Each caller still gets its own answer (the routing, or NoRecipient) only
    after the commit that made its message durable.
    """

    def __init__(self, engine, max_batch=64):
        self.engine = engine
        self.max_batch = max_batch
        self._waiting = []
        self._drainer = None  # the task committing; kept so that it is not garbage-collected

    async def store(self, raw, recipients, source, mail_from=""):
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(((raw, recipients, source, mail_from), future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self):
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
                try:
                    outcomes = await asyncio.to_thread(self._commit, [args for args, _ in batch])
                except Exception as error:  # the transaction failed: nobody's message is stored
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
        outcomes = []
        with self.engine.begin() as db:
            owned = boxes.owners(db, {address for args in batch for address in args[1]})
            for args in batch:
                try:
                    outcomes.append(store(db, *args, owned=owned))
                except NoRecipient as error:  # raised before it wrote anything
                    outcomes.append(error)
        return outcomes
