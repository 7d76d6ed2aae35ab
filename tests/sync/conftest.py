"""A real relay (Azure blob storage on Azurite, SendGrid stand-in) on a Tornado
server per test, and real boxes: migrated SQLite files, users, registered with
the relay through `register`, syncing with the box's own sync job."""

import time
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from appliance.settings import ApplianceSettings, Box, Sync
from appliance.store import Store, mailbox, messages, users
from appliance.store.tables import messages as messages_table
from appliance.sync.client import make_http_client
from appliance.sync.job import run_sync
from appliance.sync.registration import register
from hardware.settings import LinkSettings
from pouch.runtime.database import create_engine
# The relay's own fixtures (settings, engine, store, app, relay), configured by the ones below.
from tests.relay.conftest import app, engine, relay, settings, store  # noqa: F401

RELAY_DOMAIN = "relay.test"
PASSWORD = "correct horse battery"


@pytest.fixture
def direct_urls():
    """no: Azure's blobs reach the box through the relay; yes: the box gets SAS URLs."""
    return "no"


@pytest.fixture
def through_proxy():
    """A module whose boxes reach the relay through ``proxy`` (a bad link) makes this True."""
    return False


@pytest.fixture
def proxy(flaky_proxy, http_port):
    return flaky_proxy("127.0.0.1", http_port)


@pytest.fixture
def public_url(request, http_port, through_proxy):
    """Where boxes reach the relay, and so the host of the blob URLs it hands out."""
    port = request.getfixturevalue("proxy").port if through_proxy else http_port
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def relay_overrides(azurite, sendgrid_standin, direct_urls, public_url):
    return {"relay_public_url": public_url,
            "storage_kind": "azure", "storage_direct_urls": direct_urls,
            "storage_azure_connection_string": azurite.connection_string,
            "storage_azure_container": f"relay-{uuid.uuid4().hex[:12]}",
            "outbound_transport": "sendgrid", "outbound_sendgrid_api_key": sendgrid_standin.api_key,
            "outbound_sendgrid_host": sendgrid_standin.url}


@dataclass
class SyncedBox:
    settings: ApplianceSettings
    store: Store
    http: object

    def user(self, name, is_admin=False):
        with self.store.write() as conn:
            user_id = users.create_user(conn, name, self.settings.box.domain, PASSWORD,
                                           display_name=name.title(), is_admin=is_admin)
            return users.find_by_id(conn, user_id)

    def send(self, user, to, subject, body="Hello.", files=()):
        draft = messages.Draft(to=[("", address) for address in to], subject=subject, body=body,
                               new_files=[messages.NewFile(*f) for f in files])
        with self.store.write() as conn:
            return messages.send(self.store, conn, user, draft)

    def folder(self, user, folder):
        with self.store.read() as conn:
            return mailbox.list_folder(conn, user["id"], folder, limit=1000)[0]

    def message(self, message_id):
        with self.store.read() as conn:
            return conn.execute(sa.select(messages_table).where(
                messages_table.c.id == message_id)).mappings().one()

    async def sync(self, seconds=60, link=None):
        return await run_sync(self.settings, self.store, deadline=time.time() + seconds,
                              http=self.http, link=link)


@pytest.fixture
def make_box(relay, tmp_path, migrate):
    """A box named ``name``, registered with the relay; its users are name@<name>.relay.test."""
    made = []

    async def make(name, relay_url=None, registered=True, **sync_settings):
        settings = ApplianceSettings(
            box=Box(domain=f"{name}.{RELAY_DOMAIN}", data_dir=tmp_path / name),
            modem=LinkSettings(kind="always-on"),
            sync=Sync(backoff_s=0.05, backoff_max_s=0.5, step_timeout_s=60, **sync_settings))
        migrate("appliance", settings.box.database)
        engine = create_engine(settings.box.database)
        box = SyncedBox(settings, Store(engine, settings.box.data_dir, settings.box.domain),
                      make_http_client())
        made.append(box)
        if registered:
            code = relay.add_box(name)
            await register(settings, box.store, box.http, relay_url or relay.url, code)
        return box

    yield make
    for box in made:
        box.http.close()
        box.store.engine.dispose()
