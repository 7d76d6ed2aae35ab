"""One sync of the box: link up, handshake (retried with backoff until the
deadline), link down, and a line in the sync history whatever happened."""

import asyncio
import logging
import time
from dataclasses import dataclass

import hardware
from appliance.store import link_choice, sync_state, sync_usage
from appliance.sync.client import RelayClient, RelayError, make_http_client
from appliance.sync.handshake import Handshake
from appliance.sync.lock import sync_lock
from appliance.sync.metering import MeteredClient
from appliance.sync.registration import credentials
from pouch.blobs.transfer import BlobTransfer, TransferError

log = logging.getLogger(__name__)

DEFAULT_DURATION_S = 3600  # a sync without a deadline (the CLI's) retries this long


@dataclass
class SyncResult:
    started_at: int
    finished_at: int = 0
    ok: bool = False
    error: str = ""
    attempts: int = 0
    messages_up: int = 0
    messages_down: int = 0
    blob_bytes_up: int = 0  # payload of blob transfers, failed attempts included
    blob_bytes_down: int = 0
    api_bytes_up: int = 0  # JSON bodies of the handshake requests
    api_bytes_down: int = 0
    wire_bytes_up: int = 0  # everything curl sent and received: heads, bodies, retries
    wire_bytes_down: int = 0
    requests: int = 0  # HTTP requests, as curl made them
    retry_at: int = 0  # when the next attempt starts, after a failed one

    @property
    def bytes_up(self):
        return self.blob_bytes_up + self.api_bytes_up

    @property
    def bytes_down(self):
        return self.blob_bytes_down + self.api_bytes_down

    def count_transfer(self, report, up):
        if report is None:
            return
        if up:
            self.blob_bytes_up += report.sent_bytes
        else:
            self.blob_bytes_down += report.received_bytes


# A SIM that wants a PIN the settings lack, or refused theirs, stays so until the admin acts.
WAIT_FOR_THE_ADMIN = (hardware.SimPinRequired, hardware.WrongPin)


def is_temporary(error):
    """Whether another attempt may succeed.  Every attempt gets fresh blob URLs, so a
    refused or garbled transfer is worth retrying too; a refused API call is not."""
    if isinstance(error, RelayError):
        return error.temporary
    if isinstance(error, (hardware.LinkConfigError, *WAIT_FOR_THE_ADMIN)):
        return False
    return isinstance(error, (TransferError, hardware.LinkError, asyncio.TimeoutError, OSError))


async def run_sync(settings, store, deadline=None, http=None, link=None, result=None):
    """Sync once, retrying until ``deadline`` (time.time()); returns a SyncResult, ``result``
    if given: it is kept up to date meanwhile (each failed attempt's error), for the admin page.

    Raises SyncBusy when another sync holds the lock, NotRegistered when the
    box has no relay; any other failure ends up in the result and the history."""
    with sync_lock(settings.box.data_dir):
        url, token = credentials(settings, store)
        own_http = http is None
        http = MeteredClient(http or make_http_client())
        try:
            return await _sync(settings, store, url, token, http, link, deadline, result)
        finally:
            http.wire.settle()  # done already unless the sync was cancelled: its sockets let go
            if own_http:
                http.close()


async def _sync(settings, store, url, token, http, link, deadline, result):
    deadline = deadline or time.time() + DEFAULT_DURATION_S
    result = result or SyncResult(started_at=int(time.time()))
    client = RelayClient(http, url, token)
    transfer = BlobTransfer(http, block_size=settings.sync.block_kib * 1024)
    with store.read() as conn:
        box_name = (sync_state.registration(conn) or {}).get("box") or "box"
    handshake = Handshake(store, client, transfer, settings.box.data_dir / "sync", box_name, result,
                          budget=settings.sync.budget_bytes)
    delay = settings.sync.backoff_s
    while True:
        result.attempts += 1
        try:
            link = link or await hardware.make_link(_link_settings(store, settings))
            await _attempt(settings, link, handshake)
            result.ok, result.error = True, ""
            break
        except (TransferError, RelayError, hardware.LinkError, asyncio.TimeoutError, OSError) as error:
            result.error = str(error) or type(error).__name__
            log.warning("sync attempt %d failed: %s", result.attempts, result.error)
            if not is_temporary(error) or time.time() + delay > deadline:
                break
        except Exception as error:  # a bug of the box: in the history, then up with its traceback
            result.error = f"internal error: {type(error).__name__}: {error}"
            _finish(store, result, client, http.wire)
            raise
        result.retry_at = int(time.time() + delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, settings.sync.backoff_max_s)
    if result.ok:
        with store.write() as conn:
            sync_state.save_waiting(conn, list(handshake.deferred.values()))
    _finish(store, result, client, http.wire)
    return result


async def _attempt(settings, link, handshake):
    step = settings.sync.step_timeout_s
    await asyncio.wait_for(link.up(), step)
    try:
        await handshake.run()
    finally:
        try:
            await asyncio.wait_for(link.down(), step)
        except (hardware.LinkError, asyncio.TimeoutError) as error:
            log.error("the link did not come down: %s", error)


def _finish(store, result, client, wire):
    result.finished_at = int(time.time())
    wire.settle()
    result.api_bytes_up = client.counter.sent_bytes
    result.api_bytes_down = client.counter.received_bytes
    result.wire_bytes_up, result.wire_bytes_down, result.requests = wire.sent, wire.received, wire.requests
    with store.write() as conn:
        sync_usage.record(conn, result)
    log.info("sync %s after %d attempt(s): up %d messages %d bytes (%d on the wire), "
             "down %d messages %d bytes (%d on the wire)", "done" if result.ok else "failed",
             result.attempts, result.messages_up, result.bytes_up, result.wire_bytes_up,
             result.messages_down, result.bytes_down, result.wire_bytes_down)


def _link_settings(store, settings):
    """The [modem] settings with the APN the admin chose on the modem page."""
    with store.read() as conn:
        return link_choice.link_settings(conn, settings.modem)
