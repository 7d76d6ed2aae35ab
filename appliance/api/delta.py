"""Delta sync from the store's change log (the sync-engine's inbox/transactions/delta_sync.py):
a cursor is the id of the last change a client has seen."""

import asyncio
import collections
import contextlib
import json
import time
import weakref

import sqlalchemy as sa

from appliance.api import objects, params
from appliance.api.base import ApiHandler
from appliance.api.errors import APIError, bad_request
from appliance.store import changes
from appliance.store.tables import changes as change_log

PAGE = 100
EVENTS = {changes.INSERT: "create", changes.UPDATE: "modify", changes.DELETE: "delete"}
TYPES = (changes.MESSAGE, changes.THREAD, changes.DRAFT, changes.CONTACT)
POLL_SECONDS = 0.25  # writes come from the web client and the sync job too: poll the log
MAX_TIMEOUT = 240
DELTA_PARAMS = ("cursor", "include_types", "exclude_types", "view")
# Each open longpoll or stream reads the log four times a second: a client that opens them in a
# loop (reconnecting without closing) would keep the box's disk busy for nothing.
MAX_WAITING = 8  # a user's at once (a phone that lost the WiFi leaves one open until its timeout)
_waiting = weakref.WeakKeyDictionary()  # application -> Counter of user ids


def latest_cursor(conn, user_id):
    query = sa.select(sa.func.max(change_log.c.id)).where(change_log.c.user_id == user_id)
    return str(conn.execute(query).scalar() or 0)


def cursor_at(conn, user_id, start):
    """The cursor just before the user's first change at or after ``start`` (Unix seconds)."""
    query = sa.select(sa.func.max(change_log.c.id)).where(
        change_log.c.user_id == user_id, change_log.c.at < start)
    return str(conn.execute(query).scalar() or 0)


def page(conn, user_id, cursor, types):
    """Deltas after ``cursor``: each object once (its changes merged), at its last change."""
    rows = changes.since(conn, user_id, cursor, PAGE)
    merged = {}
    for row in rows:
        key = (row["kind"], row["object_id"])
        first = merged.pop(key, row)
        merged[key] = {**row, "first_op": first.get("first_op", first["op"])}
    deltas = [_delta(conn, user_id, change) for change in merged.values() if change["kind"] in types]
    end = rows[-1]["id"] if rows else cursor
    return {"cursor_start": str(cursor), "cursor_end": str(end), "deltas": deltas}


def _delta(conn, user_id, change):
    attributes = _current(conn, user_id, change["kind"], change["object_id"])
    if change["op"] == changes.DELETE or attributes is None:
        event = "delete"
    elif change["first_op"] == changes.INSERT:
        event = "create"  # the client has not seen it yet, however often it changed since
    else:
        event = "modify"
    delta = {"object": change["kind"], "event": event, "id": str(change["object_id"]),
             "cursor": str(change["id"])}
    if event != "delete":
        delta["attributes"] = attributes
    return delta


def _current(conn, user_id, kind, object_id):
    if kind in (changes.MESSAGE, changes.DRAFT):
        return objects.message(conn, user_id, object_id, draft=kind == changes.DRAFT)
    if kind == changes.THREAD:
        found = objects.threads(conn, user_id, [object_id])
        return found[0] if found else None
    return objects.contact(conn, user_id, object_id)


def handed_out(conn, cursor):
    """Whether the box can have given out ``cursor``: the log's ids only grow, so one past its
    last row is garbage, or from another box or an older copy of this one's card."""
    return cursor <= (conn.execute(sa.select(sa.func.max(change_log.c.id))).scalar() or 0)


class DeltaBase(ApiHandler):
    def cursor(self):
        if "cursor" not in self.args:
            raise bad_request("cursor is required")
        cursor = params.integer("cursor", self.args["cursor"])
        with self.store.read() as conn:  # not self.db: a longpoll would hold it open
            if not handed_out(conn, cursor):  # else the client would wait past every change
                raise bad_request(f"Invalid cursor {cursor}: the box gave out no such cursor; "
                                  "start again from POST /delta/latest_cursor")
        return cursor

    def types(self):
        params.expanded(self.args)  # checked only: objects always come whole
        wanted = set(TYPES)
        if "include_types" in self.args:
            wanted &= set(self._type_list("include_types"))
        if "exclude_types" in self.args:
            wanted -= set(self._type_list("exclude_types"))
        return wanted

    def _type_list(self, name):
        found = [t.strip() for t in self.args[name].split(",") if t.strip()]
        unknown = [t for t in found if t not in TYPES]
        if unknown:
            raise bad_request(f"Invalid object type(s) in {name}: {', '.join(unknown)}")
        return found

    def timeout(self, default):
        if "timeout" not in self.args:
            return default
        return params.integer("timeout", self.args["timeout"], 0, MAX_TIMEOUT)

    @contextlib.contextmanager
    def one_of_few(self):
        """A place among the user's MAX_WAITING open waits, or a 429."""
        counts = _waiting.setdefault(self.application, collections.Counter())
        if counts[self.user_id] >= MAX_WAITING:
            raise APIError(429, f"{MAX_WAITING} longpolls or streams of yours are open already: "
                                "close one first")
        counts[self.user_id] += 1
        try:
            yield
        finally:
            counts[self.user_id] -= 1

    def next_page(self, cursor, types):
        with self.store.read() as conn:
            return page(conn, self.user_id, cursor, types)


class LatestCursorHandler(ApiHandler):
    PARAMS = {"POST": ()}

    def post(self):
        self.reply({"cursor": latest_cursor(self.db, self.user_id)})


class GenerateCursorHandler(ApiHandler):
    PARAMS = {"POST": ()}

    def post(self):
        start = self.json_body().get("start")
        if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= params.MAX_INT:
            raise bad_request("start must be a Unix timestamp in seconds")
        self.reply({"cursor": cursor_at(self.db, self.user_id, start)})


class DeltaHandler(DeltaBase):
    PARAMS = {"GET": DELTA_PARAMS}

    def get(self):
        self.reply(self.next_page(self.cursor(), self.types()))


class LongPollHandler(DeltaBase):
    """Answers as soon as the user's mail changes after the cursor, or at the timeout."""

    PARAMS = {"GET": (*DELTA_PARAMS, "timeout")}

    async def get(self):
        cursor, types = self.cursor(), self.types()
        deadline = time.monotonic() + self.timeout(MAX_TIMEOUT)
        with self.one_of_few():
            await self._wait(cursor, types, deadline)

    async def _wait(self, cursor, types, deadline):
        while True:
            found = self.next_page(cursor, types)
            if found["deltas"] or time.monotonic() >= deadline or self.request.connection.stream.closed():
                return self.reply(found)
            cursor = int(found["cursor_end"])  # skip changes of excluded types
            await asyncio.sleep(POLL_SECONDS)


class StreamingHandler(DeltaBase):
    """Deltas as they happen, one JSON object a line, until the timeout."""

    PARAMS = {"GET": (*DELTA_PARAMS, "timeout")}

    async def get(self):
        cursor, types = self.cursor(), self.types()
        deadline = time.monotonic() + self.timeout(MAX_TIMEOUT)
        with self.one_of_few():
            await self._stream(cursor, types, deadline)

    async def _stream(self, cursor, types, deadline):
        self.set_header("Content-Type", "application/x-ndjson; charset=UTF-8")
        while time.monotonic() < deadline and not self.request.connection.stream.closed():
            found = self.next_page(cursor, types)
            for delta in found["deltas"]:
                self.write(json.dumps(delta, ensure_ascii=False) + "\n")
            cursor = int(found["cursor_end"])
            await self.flush()
            if not found["deltas"]:
                await asyncio.sleep(POLL_SECONDS)
        self.finish()
