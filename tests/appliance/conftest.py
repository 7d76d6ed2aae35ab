"""Fixtures for the box: a migrated SQLite file, its store, settings for a server."""

from pathlib import Path

import pytest
import requests

from appliance import i18n
from appliance.settings import ApplianceSettings, Box, Web
from appliance.store import Store, users
from appliance.server import make_app
from pouch.runtime.database import create_engine

DOMAIN = "box.test"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    """`make` compiles the catalogues; a bare pytest run gets them compiled here."""
    i18n.compile_catalogues()


@pytest.fixture
def box_settings(tmp_path, request):
    """Parametrise it ``indirect`` with a dict to set other [web] settings."""
    return ApplianceSettings(box=Box(domain=DOMAIN, data_dir=tmp_path / "box"),
                             web=Web(cookie_secret="test-secret-" + "x" * 32,
                                     **getattr(request, "param", {})))


@pytest.fixture
def engine(box_settings, migrate):
    migrate("appliance", box_settings.box.database)
    engine = create_engine(box_settings.box.database)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine, box_settings):
    return Store(engine, box_settings.box.data_dir, box_settings.box.domain)


@pytest.fixture
def make_user(store):
    """Create a user of the box; returns its row."""
    def make(name, is_admin=False, password=PASSWORD):
        with store.write() as conn:
            user_id = users.create_user(conn, name, DOMAIN, password, display_name=name.title(),
                                           is_admin=is_admin)
            return users.find_by_id(conn, user_id)
    return make


@pytest.fixture
def box_url(box_server, box_settings, engine):
    """The box's application of this test (its settings and database) on the session's real
    Tornado server (tests/support/box_server.py)."""
    server_engine = create_engine(box_settings.box.database)
    with box_server.serving(make_app(box_settings, server_engine)) as url:
        yield url
    server_engine.dispose()


class BoxClient(requests.Session):
    """A browser-like session: cookies kept, the XSRF token sent with every form."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def request(self, method, path, *args, **kwargs):
        kwargs.setdefault("timeout", 20)
        if method.upper() == "POST":
            if "_xsrf" not in self.cookies:
                super().request("GET", self.base_url + "/login", timeout=20)
            data = dict(kwargs.pop("data", None) or {})
            data.setdefault("_xsrf", self.cookies["_xsrf"])
            kwargs["data"] = data
        return super().request(method, self.base_url + path, *args, **kwargs)

    def sign_in(self, name, password=PASSWORD, domain=DOMAIN):
        response = self.post("/login", data={"email": f"{name}@{domain}", "password": password})
        assert response.url.endswith("/"), response.text
        return response


@pytest.fixture
def client(box_url):
    """Make a signed-in (or anonymous) client of the running box."""
    sessions = []

    def make(name=None):
        session = BoxClient(box_url)
        sessions.append(session)
        if name:
            session.sign_in(name)
        return session

    yield make
    for session in sessions:
        session.close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (no browser is ever downloaded).

    Module scope, not session: Playwright's sync API marks an asyncio loop as running in the
    main thread while it is open, and Tornado tests in later modules need to run their own."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian package `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS,
                                              timeout=30000)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, box_url):
    """A page in a fresh browser profile (its own cookies), small-phone sized."""
    contexts = []

    def make():
        context = browser.new_context(base_url=box_url, viewport={"width": 360, "height": 740})
        context.set_default_timeout(10000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
