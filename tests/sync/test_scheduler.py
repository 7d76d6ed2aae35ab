"""Syncing on schedule in the serve process: windows in local time, "sync now",
one sync at a time, and the box's pages served while a sync runs."""

import asyncio
import datetime
import json
import os
import time

import pytest
import tornado.httpclient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from appliance.store import sync_usage
from appliance.store.messages import INBOX
from appliance.sync.lock import SyncBusy, sync_lock
from appliance.sync.scheduler import Scheduler
from appliance.sync.windows import WindowError, next_window, parse_windows
from appliance.server import make_app
from tests.relay.conftest import email_bytes

KINSHASA = datetime.timezone(datetime.timedelta(hours=1))
WAIT_S = 30


def at(hour, minute, day=22):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=KINSHASA)


def test_windows_are_read_in_local_time_and_may_pass_midnight():
    windows = parse_windows("02:00-04:00, 23:30-00:30")
    assert next_window(windows, at(1, 0)) == (at(2, 0), at(4, 0))
    assert next_window(windows, at(3, 0)) == (at(3, 0), at(4, 0))  # open now: from now
    assert next_window(windows, at(5, 0)) == (at(23, 30), at(0, 30, day=23))
    assert next_window(windows, at(0, 15)) == (at(0, 15), at(0, 30))
    assert parse_windows("") == []
    for bad in ("2am-4am", "25:00-01:00", "03:00-03:00"):
        with pytest.raises(WindowError):
            parse_windows(bad)


def test_one_sync_at_a_time_across_processes(tmp_path):
    with sync_lock(tmp_path):
        with pytest.raises(SyncBusy):
            with sync_lock(tmp_path):
                pass
    with sync_lock(tmp_path):  # released
        pass


def window_open_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=1), now + datetime.timedelta(minutes=10)
    return f"{start:%H:%M}-{end:%H:%M}"


async def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_S} s"
        await asyncio.sleep(0.05)


def serve_box(box):
    """The box's web app on the same IOLoop as its scheduler, as `serve` runs them."""
    sock, port = bind_unused_port()
    server = HTTPServer(make_app(box.settings, box.store.engine))
    server.add_sockets([sock])
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture
def through_proxy():
    return True


@pytest.mark.gen_test(timeout=90)
async def test_a_window_open_now_syncs_and_pages_are_served_meanwhile(relay, make_box, proxy, http_port):
    relay.url = f"http://127.0.0.1:{http_port}"  # the webhook does not take the box's link
    goma = await make_box("goma", relay_url=proxy.url(relay.url), windows=window_open_now())
    marie = goma.user("marie")
    for index in range(30):  # ~150 KB that does not compress: 5 s at 256 kbit/s
        raw = email_bytes("marie@goma.relay.test", subject=f"news {index}",
                          attachments=[("data.bin", "application/octet-stream", os.urandom(5000))])
        assert (await relay.webhook({"email": raw, "envelope": json.dumps(
            {"to": ["marie@goma.relay.test"]})})).code == 200
    proxy.rate_bps = 256_000
    server, box_url = serve_box(goma)
    scheduler = Scheduler(goma.settings, goma.store).start()
    try:
        await wait_for(lambda: scheduler.busy, "a scheduled sync")
        assert not scheduler.sync_now()  # one at a time
        asked = time.monotonic()
        page = await tornado.httpclient.AsyncHTTPClient().fetch(box_url + "/login", request_timeout=5)
        assert page.code == 200 and time.monotonic() - asked < 1 and scheduler.busy
        await wait_for(lambda: not scheduler.busy, "the end of the sync")
        assert scheduler.last_result.ok, scheduler.last_result.error
        assert len(goma.folder(marie, INBOX)) == 30

        assert scheduler.sync_now()  # "sync now" inside the window: a second sync, nothing to do
        await wait_for(lambda: not scheduler.busy, "sync now")
        with goma.store.read() as conn:
            assert [run["ok"] for run in sync_usage.history(conn)] == [True, True]
    finally:
        scheduler.stop()
        server.stop()
