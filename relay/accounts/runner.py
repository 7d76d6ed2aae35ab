"""One asyncio task per account: runs its sessions in a thread of its own (so a slow or
silent server holds up nobody else), and waits between attempts — with doubling
backoff when the server cannot be reached, slowly when it refuses the credentials.
The time of the next attempt is kept in the database, so a restart does not hammer."""

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from relay import backoff
from relay.accounts import registry, statuses
from relay.accounts.errors import AccountError, AuthFailure, Stopped
from relay.accounts.session import Session

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10


class Runner:
    def __init__(self, engine, settings, account_id, version, token, tokens):
        self.engine = engine
        self.settings = settings
        self.account_id = account_id
        self.version = version  # of the account row it was started for
        self.token = token
        self.tokens = tokens
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self._stopped = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"account-{account_id}")
        self.session = None
        self.task = asyncio.create_task(self.run())

    def _in_thread(self, function, *args):
        return asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def run(self):
        failures = 0
        try:
            while not self.stopping.is_set():
                account = await self._in_thread(registry.load, self.engine, self.account_id, self.token)
                if await self._sleep(account["next_attempt_at"] - time.time()):
                    return
                self.session = Session(self.engine, self.settings, self.account_id, self.token, self.tokens,
                                       self.stopping, self.wake)
                try:
                    await self._in_thread(self.session.run)
                except Stopped:
                    return
                except Exception as error:  # noqa: BLE001 - the session's failure: counted, told, retried
                    if self.stopping.is_set():
                        return
                    failures = 1 if self.session.connected else failures + 1
                    await self._failed(error, failures)
        except Stopped:
            return
        except Exception:  # the database went away, say: the supervisor starts this account again
            log.exception("account=%d runner failed", self.account_id)
        finally:
            self._executor.shutdown(wait=False)

    async def _failed(self, error, failures):
        config = self.settings.accounts
        if isinstance(error, AuthFailure):
            delay = config.auth_retry_s
        else:
            delay = backoff.delay(config, failures)
            if not isinstance(error, AccountError):
                log.exception("account=%d sync failed", self.account_id, exc_info=error)
                error = AccountError(f"the relay could not sync this account ({error})")
        log.info("account=%d error=%r retry_in_s=%.0f", self.account_id, str(error), delay)
        await self._in_thread(registry.report, self.engine, self.account_id, self.token, statuses.ERROR,
                              str(error), None, time.time() + delay)

    async def _sleep(self, seconds):
        """Wait ``seconds``; True if the runner was stopped meanwhile."""
        if seconds > 0:
            try:
                await asyncio.wait_for(self._stopped.wait(), seconds)
            except asyncio.TimeoutError:
                pass
        return self.stopping.is_set()

    async def stop(self):
        self.stopping.set()
        self._stopped.set()
        if self.session is not None:
            self.session.abort()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), STOP_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.warning("account=%d did not stop within %d s", self.account_id, STOP_TIMEOUT_S)
