"""How fast the box's web mail client answers on a full box.

Builds a box (default: 200 users, 100,000 messages) through the store's own functions,
starts `mailpouch-appliance serve` as its own process, signs in 20 clients on loopback
and has them load the inbox, a thread and a search page concurrently, and the API's thread
list as an app's first page (the Nylas SDK's: 50 threads, Bearer token).  Each client is
a person: between two pages it pauses for a random think time (0 to 2x --think-ms;
--think-ms 0 makes every client hammer the server back to back, which measures
saturation, not what people see).  Prints p50/p99 per page next to a reference
measured in the same run (the static CSS file: Tornado's own floor on this machine,
noise included), the server's peak RSS, and what the inbox with its CSS and
JavaScript weighs on the wire (gzip, headers included).  Then the inbox again while
FLOODERS clients post wrong passwords as fast as the box answers, each post from a new
address (named by a trusted proxy, so no throttle spares the box a hash): its p99 next
to the inbox's without the flood.
Targets: p99 <= 50 ms, RSS < 120 MB, inbox < 40 KB.

    python bench/appliance.py [--quick] [--json] [--users N] [--messages N] [--think-ms MS]
                              [--box DIR]   (keep the built box there, or reuse it: skips the build)
"""

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import migrations  # noqa: E402
from appliance.store import Store, tokens  # noqa: E402
from appliance.store import users as box_users  # noqa: E402
from appliance.store.api_tables import api_tokens  # noqa: E402
from appliance.store.messages import Draft, send  # noqa: E402
from appliance.store.tables import users as users_table  # noqa: E402
from pouch.runtime.database import create_engine  # noqa: E402

DOMAIN = "bench.box"
PASSWORD = "bench password"
COMMON = ("maize cassava harvest market price school clinic water pump rain road bridge meeting "
          "church football family wedding money transfer phone battery solar field goat chicken "
          "fish river boat fuel truck teacher exam report letter visit doctor medicine seed").split()
SYLLABLES = "ba be bi bo bu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu sa si ta to".split()
VOCABULARY_SIZE = 5000
SEARCHED_RANKS = (5, 500)  # people search for topics and names, not for the commonest words
CLIENTS = 20
FLOODERS = 4
TARGETS = {"p99_ms": 50, "rss_mb": 120, "weight_kb": 40}


def vocabulary(rng):
    """Words with Zipf frequencies, as in real text: a few very common, most rare."""
    words = list(COMMON)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in words:
            words.append(word)
    weights, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        weights.append(total)
    return words, weights


def sentence(rng, words, count):
    vocabulary_words, cumulative = words
    return " ".join(rng.choices(vocabulary_words, cum_weights=cumulative, k=count)).capitalize() + "."


def populate(store, users, messages, rng):
    """Users and local mail written through the store, as the web client would."""
    names = [f"user{number:03d}" for number in range(users)]
    with store.write() as conn:
        rows = [box_users.find_by_id(conn, box_users.create_user(conn, name, DOMAIN, PASSWORD,
                                                               display_name=name.title()))
                for name in names]
    words = vocabulary(random.Random(0))
    batch = 2000
    for start in range(0, messages, batch):
        with store.write() as conn:
            for _ in range(min(batch, messages - start)):
                sender = rng.choice(rows)
                recipients = rng.sample(rows, rng.choice((1, 1, 1, 2, 3)))
                body = "\n\n".join(sentence(rng, words, rng.randint(8, 30))
                                     for _ in range(rng.randint(1, 5)))
                send(store, conn, sender, Draft(
                    to=[("", r["email"]) for r in recipients],
                    subject=sentence(rng, words, rng.randint(2, 6))[:-1], body=body))
    return names


def build_box(data_dir, users, count):
    """The box to measure; one kept from an earlier run with --box is used as it is."""
    database = f"sqlite:///{data_dir / 'mailpouch.db'}"
    if (data_dir / "mailpouch.db").exists():
        engine = create_engine(database)
        with engine.connect() as conn:
            names = [email.split("@")[0] for email in conn.execute(
                sa.select(users_table.c.email)).scalars()]
        engine.dispose()
        return names, 0.0
    data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade("appliance", database)
    engine = create_engine(database)
    started = time.monotonic()
    names = populate(Store(engine, data_dir, DOMAIN), users, count, random.Random(1))
    engine.dispose()
    return names, time.monotonic() - started


def api_tokens_for(data_dir, names):
    """A fresh API token for each user (the last run's revoked): {name: token}."""
    engine = create_engine(f"sqlite:///{data_dir / 'mailpouch.db'}")
    with engine.begin() as conn:
        conn.execute(api_tokens.delete().where(api_tokens.c.name == "bench"))
        found = {name: tokens.create(conn, box_users.find_by_email(conn, f"{name}@{DOMAIN}")["id"],
                                     "bench") for name in names}
    engine.dispose()
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir, port):
    environ = dict(os.environ, MAILPOUCH_BOX_DOMAIN=DOMAIN, MAILPOUCH_BOX_DATA_DIR=str(data_dir),
                   MAILPOUCH_WEB_PORT=str(port), MAILPOUCH_WEB_COOKIE_SECRET="bench-" + "s" * 40,
                   MAILPOUCH_APPLIANCE_CONFIG="", MAILPOUCH_WEB_TRUSTED_PROXIES="127.0.0.1")
    log = tempfile.TemporaryFile()  # a pipe nobody reads would stall the server once full
    process = subprocess.Popen([sys.executable, "-m", "appliance.cli", "serve"], cwd=ROOT,
                               env=environ, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode())
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the box did not start in 30 s")


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """One signed-in person: keeps the session cookie, like a phone's browser."""

    def __init__(self, http, base, token=None):
        self.http, self.base, self.cookies, self.token = http, base, {}, token

    async def fetch(self, path, method="GET", body=None, raw=False, headers=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept-Encoding": "gzip", **(headers or {})}
        request = HTTPRequest(self.base + path, method=method, body=body, headers=headers,
                              follow_redirects=False, decompress_response=not raw,
                              request_timeout=30)
        response = await self.http.fetch(request, raise_error=False)
        for header in response.headers.get_list("Set-Cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response

    async def sign_in(self, name):
        await self.fetch("/login")
        body = urlencode({"email": f"{name}@{DOMAIN}", "password": PASSWORD,
                          "_xsrf": self.cookies["_xsrf"]})
        response = await self.fetch("/login", "POST", body)
        assert response.code == 302, f"sign-in failed: {response.code}"


async def visit(client, rng, rounds, timings, think_s):
    searched = vocabulary(random.Random(0))[0][SEARCHED_RANKS[0]:SEARCHED_RANKS[1]]
    inbox = (await client.fetch("/")).body.decode()
    threads = re.findall(r'href="(/thread/\d+)#', inbox) or ["/"]
    for _ in range(rounds):
        for page, path in (("inbox", f"/?page={rng.randint(1, 3)}"), ("thread", rng.choice(threads)),
                           ("search", "/search?" + urlencode({"q": rng.choice(searched)})),
                           ("api", "/api/threads?offset=0&limit=50"),
                           ("reference", "/static/style.css")):
            await asyncio.sleep(rng.uniform(0, 2 * think_s))
            headers = {"Authorization": f"Bearer {client.token}"} if page == "api" else None
            started = time.perf_counter()
            response = await client.fetch(path, headers=headers)
            timings[page].append((time.perf_counter() - started) * 1000)
            assert response.code == 200, f"{path}: {response.code}"


async def read_inbox(client, rng, rounds, timings, think_s):
    for _ in range(rounds):
        await asyncio.sleep(rng.uniform(0, 2 * think_s))
        started = time.perf_counter()
        response = await client.fetch(f"/?page={rng.randint(1, 3)}")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.code == 200, f"inbox: {response.code}"


async def flood(client, index, names, stop, tries):
    """Wrong passwords back to back, each from an address of its own."""
    await client.fetch("/login")
    while not stop.is_set():
        tries.append(1)
        body = urlencode({"email": f"{names[len(tries) % len(names)]}@{DOMAIN}",
                          "password": "not the password", "_xsrf": client.cookies["_xsrf"]})
        number = len(tries)
        address = f"10.{index}.{number // 256 % 256}.{number % 256}"
        response = await client.fetch("/login", "POST", body, headers={"X-Forwarded-For": address})
        assert response.code == 403, f"flood: {response.code}"


async def flooded_inbox(http, base, readers, names, rounds, seed, think_s):
    """Inbox timings while FLOODERS clients flood the sign-in; and the flood's sign-ins per second."""
    stop, tries, timings = asyncio.Event(), [], []
    flooders = [asyncio.create_task(flood(Client(http, base), i, names, stop, tries))
                for i in range(FLOODERS)]
    started = time.perf_counter()
    await asyncio.gather(*(read_inbox(c, random.Random(seed + i), rounds, timings, think_s)
                           for i, c in enumerate(readers)))
    stop.set()
    await asyncio.gather(*flooders)
    return timings, len(tries) / (time.perf_counter() - started)


def wire_size(response):
    head = len(f"HTTP/1.1 {response.code} {response.reason}\r\n")
    head += sum(len(f"{k}: {v}\r\n") for k, v in response.headers.get_all()) + 2
    return head + len(response.body)


async def inbox_weight(client):
    """The inbox page and what it loads, as bytes on the wire."""
    page = await client.fetch("/", raw=True)
    html = (await client.fetch("/")).body.decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    total = wire_size(page)
    for asset in assets:
        total += wire_size(await client.fetch(asset, raw=True))
    return total / 1024


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def load(base, names, api_tokens_of, rounds, seed, think_s):
    AsyncHTTPClient.configure(None, max_clients=CLIENTS + FLOODERS)
    http = AsyncHTTPClient()
    rng = random.Random(seed)
    chosen = rng.sample(names, CLIENTS)
    clients = [Client(http, base, api_tokens_of[name]) for name in chosen]
    await asyncio.gather(*(c.sign_in(name) for c, name in zip(clients, chosen)))
    timings = {"inbox": [], "thread": [], "search": [], "api": [], "reference": []}
    await asyncio.gather(*(visit(c, random.Random(seed + i), rounds, timings, think_s)
                           for i, c in enumerate(clients)))
    weight = await inbox_weight(clients[0])
    flooded, flood_rate = await flooded_inbox(http, base, clients, names, rounds * 2, seed, think_s)
    http.close()
    return timings, weight, flooded, flood_rate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small box and few requests (CI)")
    parser.add_argument("--json", action="store_true", help="one JSON object of the figures")
    parser.add_argument("--users", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--box", help="keep the built box in this folder, or reuse the one there")
    parser.add_argument("--think-ms", type=float, default=500,
                        help="mean pause of each client between pages (default 500)")
    args = parser.parse_args(argv)
    users = args.users or (40 if args.quick else 200)
    count = args.messages or (4000 if args.quick else 100_000)
    rounds = 5 if args.quick else 25
    with tempfile.TemporaryDirectory(prefix="mailpouch-bench-") as scratch:
        data_dir = Path(args.box or scratch)
        names, build_s = build_box(data_dir, users, count)
        api_tokens_of = api_tokens_for(data_dir, names)
        port = free_port()
        server = start_server(data_dir, port)
        try:
            timings, weight, flooded, flood_rate = asyncio.run(load(
                f"http://127.0.0.1:{port}", names, api_tokens_of, rounds, 7, args.think_ms / 1000))
            rss = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    report(args.json, users, count, build_s, timings, rss, weight, args.think_ms, flooded, flood_rate)


def report(as_json, users, count, build_s, timings, rss, weight, think_ms, flooded, flood_rate):
    figures = {
        "users": users, "messages": count, "clients": CLIENTS, "think_ms": think_ms,
        "build_s": round(build_s, 1),
        "p99_ms": {page: round(percentile(values, 0.99), 1) for page, values in timings.items()},
        "p50_ms": {page: round(percentile(values, 0.5), 1) for page, values in timings.items()},
        "requests": sum(len(values) for values in timings.values()),
        "rss_mb": round(rss, 1), "weight_kb": round(weight, 1),
        "signin_flood_inbox_p99_ms": round(percentile(flooded, 0.99), 1),
        "signin_flood_per_s": round(flood_rate, 1),
        "api_p99_ms": round(percentile(timings["api"], 0.99), 1),
    }
    if as_json:
        print(json.dumps(figures))
        return
    print(f"box: {users} users, {count} messages (built in {build_s:.0f} s); {CLIENTS} clients, "
          f"mean think time {think_ms:.0f} ms")
    print(f"{'page':<8}{'p50 ms':>8}{'p99 ms':>8}   target p99 <= {TARGETS['p99_ms']} ms")
    for page in timings:
        print(f"{page:<8}{figures['p50_ms'][page]:>8}{figures['p99_ms'][page]:>8}")
    print(f"server peak RSS {figures['rss_mb']} MB (target < {TARGETS['rss_mb']} MB)")
    print(f"inbox with CSS and JS on the wire {figures['weight_kb']} KB "
          f"(target < {TARGETS['weight_kb']} KB)")
    print(f"inbox p99 during a sign-in flood ({FLOODERS} clients, {figures['signin_flood_per_s']} "
          f"wrong passwords/s): {figures['signin_flood_inbox_p99_ms']} ms "
          f"(without: {figures['p99_ms']['inbox']} ms)")
    print(f"API thread list p99 {figures['api_p99_ms']} ms (target <= 1.5x the inbox's: "
          f"{1.5 * figures['p99_ms']['inbox']:.1f} ms)")


if __name__ == "__main__":
    main()
