"""The admin's sync page: sync now, the schedule, history, data used and its cost."""

import asyncio
import contextlib
import json
import re
import time

import pytest
import requests
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from appliance.sync.scheduler import Scheduler
from appliance.server import make_app
from tests.relay.conftest import email_bytes
from tests.sync.conftest import PASSWORD

WAIT_S = 30


def serve_box_with_sync_pages(box, scheduler):
    """The box's app with its scheduler, as `serve` runs it."""
    app = make_app(box.settings, box.store.engine)
    app.deps["running"].scheduler = scheduler
    sock, port = bind_unused_port()
    server = HTTPServer(app)
    server.add_sockets([sock])
    return server, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def signed_in_on_sync_pages(box, user, scheduler=None):
    """A Browser signed in as ``user`` on the box's app with ``scheduler``; both stop after."""
    scheduler = scheduler or Scheduler(box.settings, box.store)
    server, url = serve_box_with_sync_pages(box, scheduler)
    try:
        browser = Browser(url)
        await browser.sign_in(user["email"])
        yield browser
    finally:
        scheduler.stop()
        server.stop()


class Browser:
    """A blocking session (run in a thread: the box serves on this test's loop)."""

    def __init__(self, url):
        self.url, self.session = url, requests.Session()

    async def get(self, path):
        return await asyncio.to_thread(self.session.get, self.url + path, timeout=20)

    async def post(self, path, **data):
        if "_xsrf" not in self.session.cookies:
            await self.get("/login")
        data.setdefault("_xsrf", self.session.cookies["_xsrf"])
        return await asyncio.to_thread(self.session.post, self.url + path, data=data, timeout=20)

    async def sign_in(self, email):
        response = await self.post("/login", email=email, password=PASSWORD)
        assert response.ok and not response.url.endswith("/login"), response.text


@pytest.mark.gen_test(timeout=90)
async def test_admin_syncs_now_sets_the_schedule_and_sees_what_it_cost(relay, make_box):
    later = time.gmtime(time.time() + 6 * 3600)  # a window that is not open now
    window = f"{later.tm_hour:02d}:00-{later.tm_hour:02d}:30"
    goma = await make_box("goma", price_per_mb=2.5, currency="CDF", windows=window)
    admin, marie = goma.user("amani", is_admin=True), goma.user("marie")
    raw = email_bytes("marie@goma.relay.test", subject="Hello Goma")
    assert (await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})).code == 200
    scheduler = Scheduler(goma.settings, goma.store).start()
    async with signed_in_on_sync_pages(goma, admin, scheduler) as browser:
        page = await browser.get("/admin/sync")
        assert page.status_code == 200 and "No sync yet." in page.text and window in page.text

        assert (await browser.post("/admin/sync/now")).status_code == 200
        deadline = time.monotonic() + WAIT_S
        while scheduler.busy or scheduler.last_result is None:
            assert time.monotonic() < deadline, "the sync did not finish"
            await asyncio.sleep(0.05)
        assert [m["subject"] for m in goma.folder(marie, "inbox")] == ["Hello Goma"]
        page = await browser.get("/admin/sync")
        assert "No sync yet." not in page.text and ">OK<" in page.text
        assert re.search(r"\d+\.\d\d CDF", page.text) and time.strftime("%Y-%m") in page.text

        refused = await browser.post("/admin/sync/schedule", windows="every night")
        assert refused.status_code == 400 and "every night" in refused.text
        assert (await browser.post("/admin/sync/schedule", windows="13:00-13:30")).status_code == 200
        assert scheduler.windows_text == "13:00-13:30"
        assert Scheduler(goma.settings, goma.store).windows_text == "13:00-13:30"  # kept

        forged = await asyncio.to_thread(browser.session.post, browser.url + "/admin/sync/now", timeout=20)
        assert forged.status_code == 403  # no XSRF token

        user = Browser(browser.url)
        await user.sign_in(marie["email"])
        assert (await user.get("/admin/sync")).status_code == 403


@pytest.mark.gen_test(timeout=60)
async def test_admin_registers_the_box_from_the_page(relay, make_box):
    goma = await make_box("goma", registered=False)
    admin = goma.user("amani", is_admin=True)
    async with signed_in_on_sync_pages(goma, admin) as browser:
        refused = await browser.post("/admin/sync/register", relay_url=relay.url, code="wrong")
        assert refused.status_code == 400 and "refused" in refused.text
        page = await browser.post("/admin/sync/register", relay_url=relay.url, code=relay.add_box("goma"))
        assert page.status_code == 200 and "goma.relay.test" in page.text
        assert (await goma.sync()).ok
