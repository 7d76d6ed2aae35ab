"""`mailpouch-appliance register` and `mailpouch-appliance sync`."""

import asyncio
import sys
import time

from appliance.store import Store
from appliance.sync.client import RelayError, make_http_client
from appliance.sync.job import run_sync
from appliance.sync.lock import SyncBusy
from appliance.sync.registration import NotRegistered, register
from pouch.runtime.database import create_engine


def add_commands(commands):
    reg = commands.add_parser("register", help="register this box with a relay (one-time code)")
    reg.add_argument("relay_url", help="the relay's address, e.g. https://relay.example.org")
    reg.add_argument("code", help="the code `mailpouch-relay client add` printed")
    sync = commands.add_parser("sync", help="sync with the relay now")
    sync.add_argument("--minutes", type=float, default=60, help="keep retrying this long (default 60)")


def open_store(settings):
    engine = create_engine(settings.box.database)
    return Store(engine, settings.box.data_dir, settings.box.domain)


def register_command(settings, args, command):
    store = open_store(settings)

    async def redeem():
        http = make_http_client()
        try:
            return await register(settings, store, http, args.relay_url, args.code)
        finally:
            http.close()

    try:
        found = asyncio.run(redeem())
    except RelayError as error:
        sys.exit(f"{command}: {error}")
    print(f"registered as box {found['box']} (mail for *@{found['domain']}) at {args.relay_url}")


def sync_command(settings, args, command):
    store = open_store(settings)
    try:
        result = asyncio.run(run_sync(settings, store, deadline=time.time() + args.minutes * 60))
    except (SyncBusy, NotRegistered) as error:
        sys.exit(f"{command}: {error}")
    print(f"sync {'done' if result.ok else 'failed: ' + result.error}: "
          f"{result.messages_up} messages up, {result.messages_down} down, "
          f"{result.bytes_up} bytes up, {result.bytes_down} down")
    sys.exit(0 if result.ok else 1)
