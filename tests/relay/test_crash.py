"""SIGKILL in the middle of inbound webhooks and outbound sends, then a restart:
every webhook answered 2xx reaches its box exactly once, no message goes out twice."""

import asyncio
import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
import tornado.httpclient

import migrations
from pouch import mime
from pouch.runtime.database import create_engine
from pouch.records import MessageRecord, StatusRecord
from relay import settings as relay_settings
from relay.schema import outbound
from tests.relay.conftest import ROOT_DIR, BoxClient, Relay, email_bytes, relay_environ
from tests.support.azurite import free_port

OUTGOING = 40
SENDERS = 6


class RelayProcess:
    def __init__(self, environ, url):
        self.environ = dict(os.environ, **environ)
        self.url = url
        self.process = None

    async def start(self, seconds=20):
        self.process = subprocess.Popen([sys.executable, "-m", "relay.cli", "serve"], env=self.environ,
                                        cwd=ROOT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = tornado.httpclient.AsyncHTTPClient()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                await client.fetch(self.url + "/healthz", request_timeout=1)
                return
            except (OSError, tornado.httpclient.HTTPClientError):
                await asyncio.sleep(0.05)
        raise AssertionError("the relay did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextlib.contextmanager
def relay_in_process(tmp_path, database_url, **overrides):
    """(RelayProcess, Relay) of a migrated relay that serves, once started, in a process of its own."""
    environ = relay_environ(tmp_path / "relay", database_url, free_port(), **overrides)
    settings = relay_settings.load(environ=environ)
    migrations.upgrade("relay", settings.relay.database)
    engine = create_engine(settings.relay.database)
    process = RelayProcess(environ, settings.relay.public_url)
    try:
        yield process, Relay(settings, engine, store=None)
    finally:
        process.stop()
        engine.dispose()


@pytest.fixture
def crash_relay(io_loop, tmp_path, database_url, sendgrid_standin):  # io_loop first: Relay makes a client
    with relay_in_process(tmp_path, database_url, outbound_transport="sendgrid",
                          outbound_sendgrid_api_key=sendgrid_standin.api_key,
                          outbound_sendgrid_host=sendgrid_standin.url, outbound_timeout_s=1) as running:
        yield running


async def hammer(relay, index, stop, answered):
    """Post webhooks until told to stop; note the subjects answered 2xx."""
    count = 0
    while not stop.is_set():
        subject = f"in-{index}-{count}"
        count += 1
        raw = email_bytes("marie@goma.relay.test", subject=subject, body=subject)
        try:
            response = await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
        except (OSError, tornado.httpclient.HTTPClientError):  # the relay is down: not acknowledged
            continue
        if 200 <= response.code < 300:
            answered.append(subject)


async def until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the burst did not get going"
        await asyncio.sleep(0.01)


async def wait_for_sends(relay, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with relay.engine.connect() as db:
            states = dict(db.execute(sa.select(outbound.c.state, sa.func.count()).group_by(outbound.c.state)).all())
        if not states.get("queued") and not states.get("sending"):
            return states
        await asyncio.sleep(0.2)
    raise AssertionError(f"outbound mail still waiting: {states}")


@pytest.mark.gen_test(timeout=120)
async def test_sigkill_loses_no_acknowledged_mail_and_sends_nothing_twice(crash_relay, sendgrid_standin, tmp_path):
    process, relay = crash_relay
    await process.start()
    box = BoxClient(relay, (await relay.register("goma")).token)
    sendgrid_standin.delay_s = 0.02  # sends take a while, so the kill lands among them
    messages = [mime.parse(email_bytes(f"friend{n}@example.com", subject=f"out-{n}", body=f"out {n}",
                                       sender="marie@goma.relay.test"), f"out-{n}") for n in range(OUTGOING)]
    await box.send(tmp_path, [(m.record, m.blobs) for m in messages])

    stop, answered = asyncio.Event(), []
    senders = [asyncio.create_task(hammer(relay, index, stop, answered)) for index in range(SENDERS)]
    await until(lambda: len(sendgrid_standin.accepted) >= 3 and len(answered) >= 10, seconds=20)
    process.kill()
    killed_with = len(sendgrid_standin.accepted)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*senders)
    assert answered and 0 < killed_with < OUTGOING, "the kill should land in the middle of the burst"

    await process.start()
    states = await wait_for_sends(relay, seconds=30)
    _, records = await box.receive(tmp_path)

    received = collections.Counter(r.subject for r in records if isinstance(r, MessageRecord))
    assert all(received[subject] == 1 for subject in answered), "acknowledged mail lost or doubled"
    sent = collections.Counter(body["subject"] for body in sendgrid_standin.accepted)
    assert sent and max(sent.values()) == 1, "a message went out twice"
    fates = {r.message_id: r.state for r in records if isinstance(r, StatusRecord)}
    assert len(fates) == OUTGOING and states.get("sent", 0) + states.get("failed", 0) == OUTGOING
    assert states.get("sent", 0) <= len(sent) <= states.get("sent", 0) + 1  # at most the one cut mid-send
