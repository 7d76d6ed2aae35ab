"""The accounts a relay process syncs: each tick it claims the active accounts no live
process runs (several processes share the database), starts a Runner for each, stops
those paused, removed, changed or taken elsewhere, and wakes those whose box asked for
read state changes or that have a Sent copy due."""

import asyncio
import logging
import uuid

from relay.accounts import mailmap, registry, sentcopies
from relay.accounts.credentials import TokenSource
from relay.accounts.runner import Runner

log = logging.getLogger(__name__)


class Supervisor:
    def __init__(self, engine, settings):
        self.engine = engine
        self.settings = settings
        self.token = uuid.uuid4().hex  # this process, in accounts.claimed_by
        self.tokens = TokenSource(settings.accounts.timeout_s, settings.accounts.allow_private_hosts)
        self.runners = {}
        self._stopping = asyncio.Event()
        self._task = None

    def start(self):
        self._task = asyncio.create_task(self._loop())
        return self

    async def _loop(self):
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("accounts supervisor tick failed")
            try:
                await asyncio.wait_for(self._stopping.wait(), self.settings.accounts.poll_s)
            except asyncio.TimeoutError:
                pass

    async def tick(self):
        claimed = await asyncio.to_thread(registry.claim, self.engine, self.token, self.settings.accounts.lease_s)
        gone = [account_id for account_id, runner in self.runners.items()
                if claimed.get(account_id) != runner.version or runner.task.done()]
        await asyncio.gather(*(self.runners.pop(account_id).stop() for account_id in gone))
        for account_id, version in claimed.items():
            if account_id not in self.runners:
                self.runners[account_id] = Runner(self.engine, self.settings, account_id, version, self.token,
                                                  self.tokens)
        running = list(self.runners)
        for find in (mailmap.accounts_with_wishes, sentcopies.accounts_due):
            for account_id in await asyncio.to_thread(find, self.engine, running):
                self.runners[account_id].wake.set()

    async def stop(self):
        self._stopping.set()
        if self._task is not None:
            await self._task
        await asyncio.gather(*(runner.stop() for runner in self.runners.values()))
        self.runners.clear()
        await asyncio.to_thread(registry.release, self.engine, self.token)


async def start(engine, settings):
    return Supervisor(engine, settings).start()
