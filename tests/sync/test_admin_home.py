"""The admin's home: a sync that cannot reach the relay shows why at once, and ends with it."""

import asyncio
import html
import time

import pytest
from tornado.testing import bind_unused_port

from appliance.store import sync_state
from appliance.sync import scheduler as scheduler_module
from appliance.sync.registration import save_token
from appliance.sync.scheduler import Scheduler
from tests.sync.test_admin_page import WAIT_S, signed_in_on_sync_pages

UNREACHABLE = "The box could not reach the relay."


def closed_port():
    sock, port = bind_unused_port()
    sock.close()
    return port


async def page_once(browser, path, text):
    """The page once it shows ``text`` (it refreshes itself while a sync runs)."""
    deadline = time.monotonic() + WAIT_S
    while text not in (page := (await browser.get(path)).text):
        assert time.monotonic() < deadline, page
        await asyncio.sleep(0.1)
    return page


@pytest.mark.gen_test(timeout=90)
async def test_sync_now_with_the_relay_down_shows_the_reason_at_once_then_ends_with_it(
        relay, make_box, monkeypatch):
    monkeypatch.setattr(scheduler_module, "SYNC_NOW_S", 3)  # "sync now" retries this long
    goma = await make_box("goma", registered=False)
    save_token(goma.settings, "a-token")
    with goma.store.write() as conn:  # registered with a relay that is not there
        sync_state.save_registration(conn, f"http://127.0.0.1:{closed_port()}", "goma", goma.settings.box.domain)
    admin = goma.user("amani", is_admin=True)
    scheduler = Scheduler(goma.settings, goma.store)
    async with signed_in_on_sync_pages(goma, admin, scheduler) as browser:
        home = await browser.get("/admin")
        assert "Never" in home.text and 'href="/admin/sync"' in home.text and 'href="/admin/modem"' in home.text
        started = await browser.post("/admin/sync/now", next="/admin")
        assert started.url.endswith("/admin")

        running = await page_once(browser, "/admin", UNREACHABLE)
        assert "A sync is running" in running and 'http-equiv="refresh"' in running
        assert "The last attempt failed" in running and "The next attempt starts at" in running

        ended = await page_once(browser, "/admin", "Failed: " + UNREACHABLE)
        assert "A sync is running" not in ended and "refresh" not in ended
        assert not scheduler.busy and not scheduler.last_result.ok
        sync_page = (await browser.get("/admin/sync")).text
        assert UNREACHABLE in sync_page and "Sync now" in sync_page  # it can be tried again
        await browser.post("/settings", action="language", language="fr")
        assert "La boîte n'a pas pu joindre le relais." in html.unescape((await browser.get("/admin")).text)


@pytest.mark.gen_test(timeout=60)
async def test_sync_now_on_an_unregistered_box_says_so_in_the_admins_language(relay, make_box):
    goma = await make_box("goma", registered=False)
    admin = goma.user("amani", is_admin=True)
    scheduler = Scheduler(goma.settings, goma.store)
    async with signed_in_on_sync_pages(goma, admin, scheduler) as browser:
        assert "This box is not registered with a relay yet." in (await browser.get("/admin")).text
        refused = await browser.post("/admin/sync/now")
        assert refused.status_code == 409 and "This box is not registered with a relay yet." in refused.text
        assert not scheduler.busy
        await browser.post("/settings", action="language", language="fr")
        refused = await browser.post("/admin/sync/now")
        assert "Cette boîte n'est encore inscrite auprès d'aucun relais." in html.unescape(refused.text)
