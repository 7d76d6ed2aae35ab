"""What the external-account tests share: a box adding accounts through real uploads, the
relay's account supervisor, mail to seed, and waiting for what a user would notice."""

import asyncio
import contextlib
import datetime
import io
import time
import uuid
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from pouch import sealing
from pouch.container import PouchWriter
from pouch.records import ACCOUNT_ACTIVE, AccountRecord, AccountStatusRecord, BlobRecord, MessageRecord
from relay import keys
from relay.accounts import supervisor as account_supervisor
from relay.schema import account_messages, accounts, deliveries, inbound

OWNER = "marie@goma.relay.test"
ADDRESS = "amani@example.org"
PASSWORD = "imap-secret"
ACCOUNT_ID = "acc-1"

# Quick retries so that the tests see a whole cycle in seconds; a refused password waits long.
# Dovecot, the SMTP server and the token provider run on this machine: private hosts allowed.
FAST = {"accounts_poll_s": 0.1, "accounts_backoff_s": 0.2, "accounts_backoff_max_s": 1.0,
        "accounts_timeout_s": 3, "accounts_auth_retry_s": 300, "accounts_batch": 10,
        "accounts_allow_private_hosts": True}


@pytest.fixture
def database_url(request, tmp_path):
    """SQLite unless a test asks for PostgreSQL too (indirect parametrization)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def relay_overrides():
    return dict(FAST)


def settings_for(server, user=ADDRESS, password=PASSWORD, security="none", days=30, smtp_port=0, **more):
    """The sealed settings (accounts contract) of ``user``'s account on Dovecot ``server``."""
    port = server.tls_port if security == "tls" else server.port
    return {"imap_host": server.host, "imap_port": port, "imap_security": security,
            "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none",
            "username": user, "auth": "password", "password": password, "days": days, **more}


def account_record(relay, settings, account_id=ACCOUNT_ID, state=ACCOUNT_ACTIVE, owner=OWNER, address=ADDRESS):
    """An AccountRecord as the box writes it: settings sealed to the relay's public key."""
    _, public = keys.account_keys(relay.settings)
    return AccountRecord(account_id, owner, address, state, sealing.seal(public, settings) if settings else b"")


async def upload(box, tmp_path, *records, blobs=None):
    """The box uploads one pouch of ``records`` (accounts, flags, messages) and hands it over."""
    buffer = io.BytesIO()
    with PouchWriter(buffer, sender="box", recipient="relay", level=3) as writer:
        for digest, data in (blobs or {}).items():
            writer.add(BlobRecord(digest, data))
        for record in records:
            writer.add(record)
    data = buffer.getvalue()
    answer = await box.sync(outgoing={"size": len(data)})
    path = tmp_path / f"upload-{uuid.uuid4().hex}.pouch"
    path.write_bytes(data)
    await box.transfer.upload(answer["upload"]["url"], path)
    done = await box.sync(uploaded=[answer["upload"]["name"]])
    assert answer["upload"]["name"] in done["accepted"], done


@contextlib.asynccontextmanager
async def accounts_running(relay):
    """The relay's account supervisor, as `mailpouch-relay serve` runs it."""
    supervisor = await account_supervisor.start(relay.engine, relay.settings)
    try:
        yield supervisor
    finally:
        await supervisor.stop()


async def until(check, what, timeout_s=20):
    """Wait until ``check()`` (run in a thread: it may query the database) is true; return it."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.05)


def queued_subjects(relay):
    """Subjects of the mail synced from accounts and queued for boxes, in queue order."""
    with relay.engine.connect() as db:
        raws = db.execute(sa.select(inbound.c.raw).join(deliveries, deliveries.c.inbound_id == inbound.c.id)
                          .where(inbound.c.source == "imap").order_by(deliveries.c.id)).scalars().all()
    return [subject_of(raw) for raw in raws]


def subject_of(raw):
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(b"subject:"):
            return line[8:].strip().decode()
    return ""


def account_row(relay, account_id=ACCOUNT_ID):
    with relay.engine.connect() as db:
        return db.execute(sa.select(accounts).where(accounts.c.box_account_id == account_id)).mappings().first()


def queued_count(relay, account_id=ACCOUNT_ID):
    """How many messages of the account were queued for its box (counted, not loaded)."""
    with relay.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(account_messages)
                          .join(accounts, accounts.c.id == account_messages.c.account_id)
                          .where(accounts.c.box_account_id == account_id,
                                 account_messages.c.inbound_id.isnot(None))).scalar()


def mapped(relay):
    with relay.engine.connect() as db:
        return db.execute(sa.select(account_messages)).mappings().all()


def message(subject, days_ago=0.0, seen=False, to=ADDRESS, body="Hello from far away.", message_id=True):
    """(raw, arrival time, seen) of one message, for Dovecot.seed."""
    arrived = datetime.datetime.now() - datetime.timedelta(days=days_ago)
    mail = EmailMessage()
    mail["From"] = "Ami <ami@elsewhere.example>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = arrived.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")
    if message_id:
        mail["Message-ID"] = f"<{uuid.uuid4().hex}@elsewhere.example>"
    mail.set_content(body)
    return bytes(mail.as_bytes().replace(b"\n", b"\r\n")), arrived, seen


async def received(box, tmp_path):
    """Sync the box once: (mail records, account status records) it received."""
    _, records = await box.receive(tmp_path)
    return ([r for r in records if isinstance(r, MessageRecord)],
            [r for r in records if isinstance(r, AccountStatusRecord)])
