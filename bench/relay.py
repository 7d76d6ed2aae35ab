#!/usr/bin/env python3
"""How fast one relay process takes in and packs mail.

inbound: SendGrid raw-mode webhooks posted by concurrent clients to a relay
  (`mailpouch-relay serve`, SQLite, synchronous=FULL) — messages durably stored
  per second.  Reference: the same bytes written one file each with fsync.
pack: a box's pending mail packed into pouches during its sync, in MB of raw
  MIME per second, once the background has converted it to records (that
  conversion's own rate is printed too).  Reference: zstd alone, at the bulk
  level (a backlog this size packs at it), on the same bytes.

Messages are the corpus's real-traffic folders when it is present
($MAILPOUCH_CORPUS or ../shared/corpus), else generated ones.
Targets: >= 300 messages/s inbound, >= 20 MB/s packing.

    python bench/relay.py [--quick] [--json]
"""

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tornado.httpclient  # noqa: E402
import zstandard  # noqa: E402

import migrations  # noqa: E402
from pouch.runtime.database import create_engine  # noqa: E402
from relay import boxes  # noqa: E402
from relay.boxsync import blobstore, packing  # noqa: E402
from relay.inbound import preparation, store as inbound  # noqa: E402
from relay import settings as relay_settings  # noqa: E402

TARGET_INBOUND_PER_S = 300
TARGET_PACK_MB_PER_S = 20
CONCURRENCY = 16
USER, PASSWORD = "bench", "bench-secret"
REAL_TRAFFIC = ("spamscope-mail-parser", "sisimai-set-of-emails", "php-mime-mail-parser", "apache-spamassassin")


def corpus_messages(limit):
    folder = Path(os.environ.get("MAILPOUCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    paths = sorted(p for name in REAL_TRAFFIC for p in (folder / name).glob("*.eml")) if folder.is_dir() else []
    return [p.read_bytes() for p in paths[:limit]]


def generated_messages(count):
    rng = random.Random(7)
    words = "mail pouch relay box modem night data village school clinic report water".split()
    messages = []
    for index in range(count):
        message = EmailMessage()
        message["From"], message["To"] = f"sender{index}@example.org", "reader@bench.relay.test"
        message["Subject"] = " ".join(rng.choices(words, k=6))
        message.set_content(" ".join(rng.choices(words, k=rng.randint(50, 800))))
        if index % 5 == 0:
            message.add_attachment(rng.randbytes(rng.randint(10_000, 200_000)), maintype="application",
                                   subtype="octet-stream", filename=f"file{index}.bin")
        messages.append(message.as_bytes())
    return messages


def workload(count):
    """Distinct messages: the relay delivers one again (same Message-ID, or bytes) only once."""
    messages = corpus_messages(count) or generated_messages(count)
    return list({inbound.once_key(raw): raw for raw in messages}.values())


def bench_settings(folder, port=8081):
    environ = {"MAILPOUCH_RELAY_DATA_DIR": str(folder), "MAILPOUCH_RELAY_DOMAIN": "relay.test",
               "MAILPOUCH_WEB_PORT": str(port),
               "MAILPOUCH_RELAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "MAILPOUCH_INBOUND_WEBHOOK_USER": USER, "MAILPOUCH_INBOUND_WEBHOOK_PASSWORD": PASSWORD}
    return environ, relay_settings.load(environ=dict(os.environ, **environ))  # MAILPOUCH_* may tune it


def migrated_engine(settings):
    migrations.upgrade("relay", settings.relay.database)
    engine = create_engine(settings.relay.database)
    boxes.create(engine, "bench", "bench.relay.test")
    return engine


def form(raw):
    boundary = "benchBOUNDARY"
    envelope = json.dumps({"to": ["reader@bench.relay.test"], "from": "sender@example.org"}).encode()
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
             for name, value in (("email", raw), ("envelope", envelope))]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def post_all(url, bodies):
    client = tornado.httpclient.AsyncHTTPClient(max_clients=CONCURRENCY)
    queue = list(reversed(bodies))
    failures = []

    async def poster():
        while queue:
            body, content_type = queue.pop()
            response = await client.fetch(url, method="POST", body=body, auth_username=USER,
                                          auth_password=PASSWORD, headers={"Content-Type": content_type},
                                          raise_error=False, request_timeout=60)
            if response.code != 200:
                failures.append(response.code)

    start = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(CONCURRENCY)))
    return time.perf_counter() - start, failures


async def wait_up(url, seconds=20):
    client = tornado.httpclient.AsyncHTTPClient()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            await client.fetch(url, request_timeout=1)
            return
        except (OSError, tornado.httpclient.HTTPClientError):
            await asyncio.sleep(0.1)
    raise RuntimeError("the relay did not start")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure_inbound(folder, messages):
    port = free_port()
    environ, settings = bench_settings(folder, port)
    migrated_engine(settings).dispose()
    relay = subprocess.Popen([sys.executable, "-m", "relay.cli", "serve"], cwd=ROOT, env=dict(os.environ, **environ),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = settings.relay.public_url
        asyncio.run(wait_up(base + "/healthz"))
        bodies = [form(raw) for raw in messages]
        seconds, failures = asyncio.run(post_all(base + "/inbound/sendgrid", bodies))
    finally:
        relay.terminate()
        relay.wait(10)
    if failures:
        raise RuntimeError(f"{len(failures)} webhooks failed: {sorted(set(failures))}")
    return len(messages) / seconds


def measure_fsync_reference(folder, messages):
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for index, raw in enumerate(messages):
        with open(folder / f"{index}.eml", "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
    return len(messages) / (time.perf_counter() - start)


def measure_packing(folder, messages):
    """(pack MB/s, prepare MB/s, compression ratio, bulk zstd level): raw MIME MB per second."""
    _, settings = bench_settings(folder)
    engine = migrated_engine(settings)
    for raw in messages:
        inbound.store_now(engine, raw, ["reader@bench.relay.test"], "bench")
    box = _box(engine)
    store = blobstore.make_store(settings)
    start = time.perf_counter()
    while preparation.prepare_some(engine, limit=100):
        pass
    prepare_seconds = time.perf_counter() - start

    async def pack():
        await store.prepare()
        start = time.perf_counter()
        names = await packing.pack_pending(engine, store, settings, box)
        return time.perf_counter() - start, names

    seconds, names = asyncio.run(pack())
    engine.dispose()
    raw_mb = sum(map(len, messages)) / 1e6
    pouch_mb = sum((settings.blob_folder / name).stat().st_size for name in names) / 1e6
    return raw_mb / seconds, raw_mb / prepare_seconds, raw_mb / pouch_mb, settings.sync.bulk_pack_level


def _box(engine):
    row = [b for b in boxes.list_all(engine) if b["name"] == "bench"][0]
    return boxes.Box(row["id"], row["name"], row["domain"])


def measure_zstd_reference(messages, level):
    data = b"".join(messages)
    compressor = zstandard.ZstdCompressor(level=level)
    start = time.perf_counter()
    compressor.compress(data)
    return len(data) / 1e6 / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run, as CI does")
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args()
    count = 300 if args.quick else 2000
    messages = workload(count)
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as temp:
        temp = Path(temp)
        inbound_per_s = measure_inbound(temp / "inbound", messages)
        fsync_per_s = measure_fsync_reference(temp / "fsync", messages)
        pack_mb_per_s, prepare_mb_per_s, ratio, level = measure_packing(temp / "pack", messages)
        zstd_mb_per_s = measure_zstd_reference(messages, level)
    figures = {
        "messages": len(messages), "raw_mb": round(sum(map(len, messages)) / 1e6, 2),
        "inbound_per_s": round(inbound_per_s, 1), "fsync_reference_per_s": round(fsync_per_s, 1),
        "pack_mb_per_s": round(pack_mb_per_s, 2), "prepare_mb_per_s": round(prepare_mb_per_s, 2),
        "zstd_reference_mb_per_s": round(zstd_mb_per_s, 2),
        "pack_ratio": round(ratio, 2), "bulk_pack_level": level,
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['messages']} messages, {figures['raw_mb']} MB of raw MIME")
    print(f"{'inbound webhooks stored':32} {inbound_per_s:10.1f} /s   (target {TARGET_INBOUND_PER_S}; "
          f"one fsync'd file per message: {fsync_per_s:.1f} /s)")
    print(f"{'pouch packing':32} {pack_mb_per_s:10.2f} MB/s (target {TARGET_PACK_MB_PER_S}; "
          f"zstd level {level} alone: {zstd_mb_per_s:.2f} MB/s; ratio {ratio:.2f})")
    print(f"{'MIME conversion (background)':32} {prepare_mb_per_s:10.2f} MB/s (done as mail arrives, "
          "before any sync)")


if __name__ == "__main__":
    main()
