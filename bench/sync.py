#!/usr/bin/env python3
"""How well a sync uses a slow link.

A relay (folder blob store) and a box run in this process; between them a
proxy throttles the link to 256 kbit/s each way.  For batches of 10, 100 and
1,000 messages each way (box -> internet, internet -> box) one sync is timed
and the bytes on the link counted at the proxy.  Reference: the time those
bytes alone need at 256 kbit/s; ``link_use`` = that time / the sync's time.
Target: link_use >= 0.85 for 100 messages and up.

    python bench/sync.py [--quick] [--json]      (--quick: 10 and 100 only)
"""

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tornado.netutil  # noqa: E402
from tornado.httpserver import HTTPServer  # noqa: E402

import migrations  # noqa: E402
from appliance.settings import ApplianceSettings, Box, Sync  # noqa: E402
from appliance.store import Store, messages, users  # noqa: E402
from appliance.sync.client import make_http_client  # noqa: E402
from appliance.sync.job import run_sync  # noqa: E402
from appliance.sync.registration import register  # noqa: E402
from hardware.settings import LinkSettings  # noqa: E402
from pouch.runtime.database import create_engine  # noqa: E402
from relay import boxes  # noqa: E402
from relay.boxsync import blobstore  # noqa: E402
from relay.inbound import preparation, store as inbound  # noqa: E402
from relay import settings as relay_settings  # noqa: E402
from relay.web.app import make_app  # noqa: E402
from tests.support.flaky_proxy import FlakyProxy  # noqa: E402

RATE_BPS = 256_000
TARGET_LINK_USE = 0.85
DOMAIN = "bench.relay.test"
WORDS = ("mail pouch relay box modem night data village school clinic report water market "
         "harvest rain road bridge meeting teacher nurse price bus family letter").split()


def text(rng, words):
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(words))


def internet_mail(rng, index):
    message = EmailMessage()
    message["From"] = f"sender{index}@example.org"
    message["To"] = f"marie@{DOMAIN}"
    message["Subject"] = f"report {index}: {text(rng, 4)}"
    message["Message-ID"] = f"<bench-{index}@example.org>"
    message.set_content(text(rng, rng.randint(40, 300)))
    return message.as_bytes()


async def start_relay(folder):
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    proxy = FlakyProxy("127.0.0.1", port, rate_bps=None).start()
    environ = {"MAILPOUCH_RELAY_DATA_DIR": str(folder / "relay"), "MAILPOUCH_RELAY_DOMAIN": "relay.test",
               "MAILPOUCH_RELAY_PUBLIC_URL": f"http://127.0.0.1:{proxy.port}"}
    settings = relay_settings.load(environ=environ)
    migrations.upgrade("relay", settings.relay.database)
    engine = create_engine(settings.relay.database)
    store = blobstore.make_store(settings)
    await store.prepare()
    server = HTTPServer(make_app(settings, engine, store))
    server.add_sockets(sockets)
    return engine, proxy, server


async def start_box(folder, engine, proxy, http):
    settings = ApplianceSettings(box=Box(domain=DOMAIN, data_dir=folder / "box"),
                                 modem=LinkSettings(kind="always-on"), sync=Sync(backoff_s=0.1))
    migrations.upgrade("appliance", settings.box.database)
    store = Store(create_engine(settings.box.database), settings.box.data_dir, DOMAIN)
    code = boxes.create(engine, "bench", DOMAIN)
    await register(settings, store, http, f"http://127.0.0.1:{proxy.port}", code)
    return settings, store


def fill(engine, store, count, rng):
    with store.write() as conn:
        user = users.find_by_id(conn, users.create_user(conn, "marie", DOMAIN, "bench password 1"))
        for index in range(count):
            draft = messages.Draft(to=[("", f"friend{index}@example.com")], subject=f"note {index}",
                                   body=text(rng, rng.randint(40, 300)))
            messages.send(store, conn, user, draft)
    with engine.begin() as db:
        for index in range(count):
            inbound.store(db, internet_mail(rng, index), [f"marie@{DOMAIN}"], "bench")
    while preparation.prepare_some(engine):  # the relay's background does this as mail arrives
        pass


async def measure(count):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        engine, proxy, server = await start_relay(folder)
        http = make_http_client()
        try:
            settings, store = await start_box(folder, engine, proxy, http)
            fill(engine, store, count, random.Random(count))
            proxy.rate_bps = RATE_BPS
            proxy.reset_counts()
            started = time.perf_counter()
            result = await run_sync(settings, store, deadline=time.time() + 3600, http=http)
            seconds = time.perf_counter() - started
        finally:
            http.close()
            server.stop()
            proxy.stop()
            engine.dispose()
    if not (result.ok and result.messages_up == result.messages_down == count):
        raise RuntimeError(f"the sync of {count} messages did not complete: {result}")
    wire = proxy.bytes_up + proxy.bytes_down
    return {"messages_each_way": count, "seconds": round(seconds, 3), "bytes": wire,
            "bytes_up": proxy.bytes_up, "bytes_down": proxy.bytes_down,
            "payload_bytes": result.bytes_up + result.bytes_down, "requests": result.requests,
            "link_use": round(wire * 8 / RATE_BPS / seconds, 3)}


def table(figures):
    lines = [f"sync over a {RATE_BPS // 1000} kbit/s link (target: link_use >= {TARGET_LINK_USE} "
             "for 100 messages and up)",
             f"{'batch':>8} {'seconds':>8} {'bytes':>10} {'up':>9} {'down':>9} {'requests':>8} {'link_use':>8}"]
    for name, row in figures.items():
        lines.append(f"{row['messages_each_way']:>8} {row['seconds']:>8.2f} {row['bytes']:>10} "
                     f"{row['bytes_up']:>9} {row['bytes_down']:>9} {row['requests']:>8} {row['link_use']:>8.3f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batches of 10 and 100 only")
    parser.add_argument("--json", action="store_true", help="one JSON object of the figures")
    args = parser.parse_args()
    logging.getLogger("tornado").setLevel(logging.ERROR)  # a resumable upload starts with a 404
    counts = (10, 100) if args.quick else (10, 100, 1000)
    figures = {f"batch_{count}": asyncio.run(measure(count)) for count in counts}
    print(json.dumps(figures) if args.json else table(figures))


if __name__ == "__main__":
    main()
