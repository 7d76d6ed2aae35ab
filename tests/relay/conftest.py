"""A real relay per test: migrated database (SQLite file, or PostgreSQL), folder
blob store, Tornado server on a free port; and a box client speaking the
handshake over HTTP with the box's own blob transfer code."""

import asyncio
import base64
import io
import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import tornado.httpclient

from pouch.blobs.transfer import BlobTransfer
from pouch.container import PouchReader, PouchWriter
from pouch.records import BlobRecord
from pouch.runtime.database import create_engine
from relay import boxes
from relay.boxsync import blobstore
from relay import settings as relay_settings
from relay.outbound.transports import make_transport
from relay.outbound.worker import Worker
from relay.schema import outbound
from relay.web.app import make_app

WEBHOOK_USER, WEBHOOK_PASSWORD = "sendgrid", "webhook-secret"
OPERATOR_USER, OPERATOR_PASSWORD = "ops", "operator-secret"
TIMEOUT_S = 20
ROOT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'relay.db'}"


def relay_environ(data_dir, database_url, port, **overrides):
    """The MAILPOUCH_* variables of a test relay; ``overrides``: {"section_key": value}."""
    environ = {
        "relay_data_dir": data_dir, "relay_database_url": database_url, "relay_domain": "relay.test",
        "relay_public_url": f"http://127.0.0.1:{port}", "web_port": port,
        "inbound_webhook_user": WEBHOOK_USER, "inbound_webhook_password": WEBHOOK_PASSWORD,
        "operator_user": OPERATOR_USER, "operator_password": OPERATOR_PASSWORD,
        "outbound_backoff_s": 0.05, "outbound_poll_s": 0.05, "outbound_timeout_s": 5,
        # Not the machine's spamd (Debian's may listen on 783): a test that scores starts its own.
        "spam_enabled": False,
    }
    environ.update(overrides)
    return {f"MAILPOUCH_{key}".upper(): str(value) for key, value in environ.items()}


@pytest.fixture
def relay_overrides():
    """Settings a test module changes, as {"section_key": value}."""
    return {}


@pytest.fixture
def settings(tmp_path, database_url, http_port, relay_overrides):
    return relay_settings.load(environ=relay_environ(tmp_path / "relay", database_url, http_port,
                                                     **relay_overrides))


@pytest.fixture
def engine(settings, migrate):
    migrate("relay", settings.relay.database)
    engine = create_engine(settings.relay.database)
    yield engine
    engine.dispose()


@pytest.fixture
def store(settings, io_loop):
    store = blobstore.make_store(settings)
    io_loop.run_sync(store.prepare)
    return store


@pytest.fixture
def app(settings, engine, store):
    return make_app(settings, engine, store)


@pytest.fixture
def relay(settings, engine, store, http_server):
    return Relay(settings, engine, store)


class Relay:
    def __init__(self, settings, engine, store):
        self.settings = settings
        self.engine = engine
        self.store = store
        self.url = settings.relay.public_url
        self.http = tornado.httpclient.AsyncHTTPClient()

    def add_box(self, name, domain=None):
        return boxes.create(self.engine, name, domain or f"{name}.{self.settings.relay.domain}")

    async def register(self, name, domain=None):
        code = self.add_box(name, domain)
        response = await self.post_json("/api/v1/register", {"code": code})
        return BoxClient(self, json.loads(response.body)["token"])

    async def request(self, path, method="POST", body=None, headers=None, auth=None):
        """The response, whatever its status."""
        if auth:
            credentials = base64.b64encode(":".join(auth).encode()).decode()
            headers = dict(headers or {}, Authorization=f"Basic {credentials}")
        return await self.http.fetch(self.url + path, method=method, body=body, headers=headers,
                                     raise_error=False, request_timeout=TIMEOUT_S)

    async def post_json(self, path, document, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.request(path, body=json.dumps(document), headers=headers)

    async def webhook(self, fields, files=None, auth=(WEBHOOK_USER, WEBHOOK_PASSWORD), headers=None):
        body, content_type = multipart(fields, files or {})
        return await self.request("/inbound/sendgrid", body=body, auth=auth,
                                  headers=dict(headers or {}, **{"Content-Type": content_type}))

    def worker(self):
        return Worker(self.engine, make_transport(self.settings), self.settings.outbound)

    async def send_all(self, seconds=15):
        """Run the sender until no message waits to be sent (retries included), bounded in time."""
        worker = self.worker()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not await asyncio.to_thread(worker.run_once):
                with self.engine.connect() as db:
                    waiting = db.execute(sa.select(sa.func.count()).select_from(outbound).where(
                        outbound.c.state.in_(("queued", "sending")))).scalar()
                if not waiting:
                    return
                await asyncio.sleep(0.02)
        raise AssertionError(f"outbound mail still waiting after {seconds} s")


class BoxClient:
    """The box's side of the handshake, over HTTP, with the box's blob transfer."""

    def __init__(self, relay, token):
        self.relay = relay
        self.token = token
        self.transfer = BlobTransfer(tornado.httpclient.AsyncHTTPClient())

    async def sync(self, received=(), uploaded=(), outgoing=None, expect=200):
        response = await self.relay.post_json("/api/v1/sync", {
            "received": list(received), "uploaded": list(uploaded), "outgoing": outgoing}, self.token)
        assert response.code == expect, response.body
        return json.loads(response.body)

    async def fetch(self, tmp_path, offer):
        """The records of one offered pouch, downloaded through its URL."""
        dest = tmp_path / offer["name"].replace("/", "_")
        await self.transfer.download(offer["url"], dest, offer["size"], offer["sha256"])
        with open(dest, "rb") as pouch:
            return list(PouchReader(pouch))

    async def receive(self, tmp_path, ack=True):
        """Sync, download every offered pouch, ack them; returns (names, records)."""
        answer = await self.sync()
        records = []
        for offer in answer["downloads"]:
            records += await self.fetch(tmp_path, offer)
        names = [offer["name"] for offer in answer["downloads"]]
        if ack and names:
            await self.sync(received=names)
        return names, records

    async def send(self, tmp_path, parsed_messages):
        """Upload one pouch of (record, blobs) and hand it over; returns the second answer."""
        data = pouch_bytes(parsed_messages, sender="box")
        answer = await self.sync(outgoing={"size": len(data)})
        path = tmp_path / "outgoing.pouch"
        path.write_bytes(data)
        await self.transfer.upload(answer["upload"]["url"], path)
        return answer["upload"]["name"], await self.sync(uploaded=[answer["upload"]["name"]])


def pouch_bytes(parsed_messages, sender="box", recipient="relay"):
    buffer = io.BytesIO()
    with PouchWriter(buffer, sender=sender, recipient=recipient, level=3) as writer:
        for record, blobs in parsed_messages:
            for digest, data in blobs.items():
                writer.add(BlobRecord(digest, data))
            writer.add(record)
    return buffer.getvalue()


def multipart(fields, files):
    """A multipart/form-data body as SendGrid posts: text fields, then file parts."""
    boundary = "xYzZY"
    parts = []
    for name, value in fields.items():
        value = value.encode() if isinstance(value, str) else value
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value + b"\r\n")
    for name, (filename, content_type, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def deliver(relay, to, **message):
    """Post a message for ``to`` (an address or a list) to the relay's webhook, as SendGrid does;
    returns its bytes."""
    raw = email_bytes(to, **message)
    response = await relay.webhook({"email": raw, "envelope": json.dumps({"to": [to] if isinstance(to, str) else to})})
    assert response.code == 200, response.body
    return raw


def email_bytes(to, subject="Hello", body="Hi there.", sender="ami@example.org", attachments=(), cc=()):
    """A small RFC 5322 message; ``attachments``: (filename, mime type, bytes)."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((subject, body)))}@example.org>"
    message.set_content(body)
    for filename, mime_type, data in attachments:
        maintype, subtype = mime_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()
