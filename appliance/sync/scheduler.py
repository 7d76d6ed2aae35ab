"""Syncing on schedule inside the serve process, and "sync now" for the admin page.

One coroutine waits for the next window and syncs with the window's end as the
deadline (the job retries with backoff until then); "sync now" starts a sync
at once.  Syncs run on the server's IOLoop, which keeps serving pages: the
job's blocking work (packing, importing) runs in threads.
"""

import asyncio
import datetime
import logging
import time

from appliance.store import sync_state
from appliance.sync.job import SyncResult, run_sync
from appliance.sync.lock import SyncBusy
from appliance.sync.registration import NotRegistered
from appliance.sync.windows import WindowError, next_window, parse_windows, zone

log = logging.getLogger(__name__)

MAX_SLEEP_S = 60  # the clock is looked at again at least this often (it may be set meanwhile)
# "Sync now" retries a few times with backoff, then ends with its reason: the admin is waiting.
SYNC_NOW_S = 300


class Scheduler:
    def __init__(self, settings, store, link=None):
        self.settings = settings
        self.store = store
        self.link = link  # tests pass one; else each sync makes one from [modem]
        self.problem = ""  # a setting that could not be read, for the admin page
        with store.read() as conn:  # the admin page's schedule wins over the settings file
            saved = sync_state.windows(conn)
        self.windows_text = settings.sync.windows if saved is None else saved
        try:
            self.windows = parse_windows(self.windows_text)
            self.zone = zone(settings.box.timezone)
        except WindowError as error:  # "sync now" still works; the admin page says why no schedule
            log.error("no scheduled syncs: %s", error)
            self.problem, self.windows, self.zone = str(error), [], datetime.timezone.utc
        self.running = None  # the sync task under way
        self.current = None  # its SyncResult, updated as attempts fail
        self.last_result = None
        self._loop_task = None

    def start(self):
        if self.windows:
            self._loop_task = asyncio.ensure_future(self._follow_windows())
        return self

    def set_windows(self, text):
        """New windows from the admin page (WindowError if unreadable), kept in the store."""
        windows = parse_windows(text)
        with self.store.write() as conn:
            sync_state.save_windows(conn, text)
        if self._loop_task is not None:
            self._loop_task.cancel()
        self.windows_text, self.windows, self.problem = text, windows, ""
        return self.start()

    def stop(self):
        for task in (self._loop_task, self.running):
            if task is not None:
                task.cancel()

    def next_window(self):
        """(start, end) of the window open now or next, in the box's time zone; None if none."""
        return next_window(self.windows, datetime.datetime.now(self.zone))

    def sync_now(self):
        """Start a sync unless one runs; returns False when one already does."""
        if self.busy:
            return False
        self.running = asyncio.ensure_future(self._sync(time.time() + SYNC_NOW_S))
        return True

    @property
    def busy(self):
        return self.running is not None and not self.running.done()

    async def _follow_windows(self):
        while True:
            start, end = self.next_window()
            now = datetime.datetime.now(self.zone)
            if now < start:
                await asyncio.sleep(min((start - now).total_seconds(), MAX_SLEEP_S))
                continue
            if not self.busy:
                self.running = asyncio.ensure_future(self._sync(end.timestamp()))
            await asyncio.shield(self.running)
            # One sync per window: the job already retried until it worked or the window closed.
            await self._sleep_until(end)

    async def _sleep_until(self, moment):
        while (left := (moment - datetime.datetime.now(self.zone)).total_seconds()) > 0:
            await asyncio.sleep(min(left, MAX_SLEEP_S))

    async def _sync(self, deadline):
        self.current = SyncResult(started_at=int(time.time()))
        try:
            self.last_result = await run_sync(self.settings, self.store, deadline=deadline, link=self.link,
                                              result=self.current)
        except (SyncBusy, NotRegistered) as error:
            log.warning("no sync: %s", error)
        except Exception:  # the server goes on serving; the next window tries again
            log.exception("the sync failed unexpectedly")
        return self.last_result


def start_scheduler(settings, store, link=None):
    """Start syncing on ``settings``' windows on the running IOLoop; returns the Scheduler."""
    return Scheduler(settings, store, link).start()
