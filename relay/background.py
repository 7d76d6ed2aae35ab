"""Background loops of a serving relay: prepare and score inbound mail, send outbound mail, clear
delivered mail past its retention, sync external accounts (relay.accounts.supervisor).

Each loop repeats a blocking step in a thread while the step finds work, and
polls otherwise.  The steps keep their state in the database, so any number
of relay processes can run them side by side.
"""

import asyncio
import functools
import inspect
import logging
import threading
import time

from relay import retention
from relay.accounts import supervisor as account_supervisor
from relay.inbound import preparation, smtp, store as inbound
from relay.outbound.accounts import AccountSender
from relay.outbound.transports import make_transport
from relay.outbound.worker import Worker
from relay.spam import scoring

log = logging.getLogger(__name__)


async def repeat(step, poll_s, stopping):
    """Run ``step`` (True: it did something; a coroutine function, or blocking and run in a
    thread) until ``stopping`` is set."""
    while not stopping.is_set():
        try:
            busy = await step() if inspect.iscoroutinefunction(step) else await asyncio.to_thread(step)
        except Exception:  # the database went away, say: keep going, slowly
            log.exception("background step %s failed", getattr(step, "__name__", step))
            busy = False
        if not busy:
            await pause(poll_s, stopping)


async def pause(seconds, stopping):
    """Sleep ``seconds``, or less once ``stopping`` is set: a long poll never holds up a stop."""
    deadline = time.monotonic() + seconds
    while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, 0.5))


class Background:
    def __init__(self, tasks, stopping, smtp_server, accounts):
        self.tasks = tasks
        self.stopping = stopping
        self.smtp_server = smtp_server
        self.accounts = accounts

    async def stop(self):
        self.stopping.set()
        await asyncio.gather(*self.tasks, self.accounts.stop())
        if self.smtp_server is not None:
            self.smtp_server.close()
            await self.smtp_server.wait_closed()


async def start(settings, engine, store=None):
    """Start preparing, sending and in time clearing mail (and with ``store``, expiring uploads
    never handed over), syncing external accounts and, if configured, listening for SMTP."""
    stopping = threading.Event()  # read by the steps' threads too
    worker = Worker(engine, make_transport(settings), settings.outbound, stopping, AccountSender(engine, settings))
    poll_s = settings.outbound.poll_s
    tasks = [asyncio.create_task(repeat(worker.run_once, poll_s, stopping)),
             asyncio.create_task(repeat(lambda: preparation.prepare_some(engine) > 0, poll_s, stopping)),
             asyncio.create_task(repeat(lambda: retention.clear_some(engine, settings.retention.keep_days) > 0,
                                        settings.retention.poll_s, stopping))]
    if store is not None:
        expire = functools.partial(retention.expire_uploads, engine, store, settings)
        tasks.append(asyncio.create_task(repeat(expire, settings.retention.poll_s, stopping)))
    if settings.spam.enabled:  # inbound mail scored as it arrives, so packing only compares
        tasks.append(asyncio.create_task(repeat(lambda: scoring.score_some(engine, settings.spam) > 0,
                                                settings.spam.poll_s, stopping)))
    forget = functools.partial(inbound.forget_some, engine, settings.inbound.dedupe_days)
    tasks.append(asyncio.create_task(repeat(lambda: forget() > 0, settings.retention.poll_s, stopping)))
    smtp_server = None
    if settings.inbound.smtp_host:
        smtp_server = await smtp.start(engine, settings)
    accounts = await account_supervisor.start(engine, settings)
    return Background(tasks, stopping, smtp_server, accounts)
