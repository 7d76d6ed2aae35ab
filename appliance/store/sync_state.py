"""What the sync job must remember between attempts, in ``box_state``:
the relay it is registered with, pouches imported but not yet acked, and the
outgoing pouch in flight.  Kept in the database so a crash or a dropped link
resumes where it stopped instead of starting from zero."""

import base64
import binascii
import json
import time
from dataclasses import dataclass, field

from appliance.store import boxinfo, other_address_flags, other_address_records, outbox, relay_requests
from appliance.store.tables import messages

RELAY_URL, BOX_NAME, BOX_DOMAIN = "relay_url", "relay_box_name", "relay_box_domain"
UNACKED = "sync_unacked"  # names of pouches imported, the relay not yet told
UPLOAD = "sync_upload"  # the outgoing pouch in flight: Upload.to_json()
WINDOWS = "sync_windows"  # set on the admin page; wins over [sync] windows
WAITING = "sync_waiting"  # {"pouches", "bytes"} the budget left at the relay at the last sync
ACCOUNT_KEY = "relay_account_key"  # base64 of the relay's public key for sealing account settings
IMPORT_FAILURES = "sync_import_failures"  # {pouch name: times it would not import}


@dataclass
class Contents:
    """What an outgoing pouch carries: the messages' uids, the accounts' versions, the flag ids,
    the ids of relay_requests' rows."""

    uids: list = field(default_factory=list)
    accounts: dict = field(default_factory=dict)  # account id -> version
    flags: list = field(default_factory=list)
    owed: list = field(default_factory=list)


@dataclass
class Upload:
    """The outgoing pouch in flight: its file, what it holds, and how far it got."""

    path: str
    size: int
    contents: Contents = field(default_factory=Contents)
    name: str | None = None  # the relay's name for it, once the relay gave one
    url: str | None = None  # where its blocks go
    done: bool = False  # every block is up; the relay has still to take it
    untouched: bool = False  # no block was ever sent to ``url``: nothing there to ask about

    def to_json(self):
        """The flat document kept in ``box_state`` since the first version (a box upgraded
        mid-upload reads its own); fields added since are left out while empty."""
        added = {key: value for key, value in (("owed", self.contents.owed), ("untouched", self.untouched)) if value}
        return {"path": self.path, "size": self.size, "name": self.name, "url": self.url, "done": self.done,
                "uids": self.contents.uids, "accounts": self.contents.accounts, "flags": self.contents.flags,
                **added}

    @classmethod
    def from_json(cls, state):
        return cls(path=state["path"], size=state["size"], name=state.get("name"), url=state.get("url"),
                   done=bool(state.get("done")), untouched=state.get("untouched") is True,
                   contents=Contents(uids=state.get("uids", []), accounts=state.get("accounts", {}),
                                     flags=state.get("flags", []), owed=state.get("owed", [])))


def registration(conn):
    """{"url", "box", "domain"} of the relay this box is registered with, or None."""
    url = boxinfo.get(conn, RELAY_URL)
    if not url:
        return None
    return {"url": url, "box": boxinfo.get(conn, BOX_NAME), "domain": boxinfo.get(conn, BOX_DOMAIN)}


def save_registration(conn, url, box, domain):
    for key, value in ((RELAY_URL, url), (BOX_NAME, box), (BOX_DOMAIN, domain)):
        boxinfo.put(conn, key, value)


def unacked(conn):
    return json.loads(boxinfo.get(conn, UNACKED) or "[]")


def add_unacked(conn, name):
    """Called in the transaction that imports pouch ``name``: both happen or neither."""
    names = unacked(conn)
    if name not in names:
        boxinfo.put(conn, UNACKED, json.dumps(names + [name]))


def forget_acked(conn, names):
    boxinfo.put(conn, UNACKED, json.dumps([n for n in unacked(conn) if n not in set(names)]))


def upload(conn):
    """The Upload in flight, or None."""
    state = json.loads(boxinfo.get(conn, UPLOAD) or "null")
    return Upload.from_json(state) if state else None


def save_upload(conn, state):
    """Keep Upload ``state`` (None: no upload in flight)."""
    boxinfo.put(conn, UPLOAD, json.dumps(state.to_json() if state else None))


def import_failed(conn, name):
    """Pouch ``name`` would not import once more; returns how many times it has not."""
    failures = json.loads(boxinfo.get(conn, IMPORT_FAILURES) or "{}")
    failures[name] = failures.get(name, 0) + 1
    boxinfo.put(conn, IMPORT_FAILURES, json.dumps(failures))
    return failures[name]


def forget_failures(conn, name):
    failures = json.loads(boxinfo.get(conn, IMPORT_FAILURES) or "{}")
    if failures.pop(name, None) is not None:
        boxinfo.put(conn, IMPORT_FAILURES, json.dumps(failures))


def windows(conn):
    return boxinfo.get(conn, WINDOWS)


def save_windows(conn, text):
    boxinfo.put(conn, WINDOWS, text)


def account_key(conn):
    """The relay's public key (32 raw bytes) to seal external accounts' settings, or None."""
    value = boxinfo.get(conn, ACCOUNT_KEY)
    return base64.b64decode(value) if value else None


def save_account_key(conn, text):
    """Keep the key the relay sent (base64); False, and nothing kept, if it is not one."""
    try:
        key = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except binascii.Error:
        key = b""
    if len(key) != 32:
        return False
    boxinfo.put(conn, ACCOUNT_KEY, text)
    return True


def upload_taken(conn, contents):
    """The relay took a pouch of these Contents: its mail, account changes, read states,
    requests, verdicts and settings are delivered."""
    mark_uploaded(conn, contents.uids)
    other_address_records.taken(conn, contents.accounts)
    other_address_flags.forget(conn, contents.flags)
    relay_requests.taken(conn, contents.owed)


def mark_uploaded(conn, uids):
    """The relay took these messages: they leave the Outbox, stamped with when they left."""
    outbox.mark_uploaded(conn, uids)
    conn.execute(messages.update().where(messages.c.uid.in_(list(uids)), messages.c.uploaded_at.is_(None))
                 .values(uploaded_at=int(time.time())))


def waiting(conn):
    """{"pouches", "bytes"} of mail the last sync's budget left at the relay."""
    return json.loads(boxinfo.get(conn, WAITING) or '{"pouches": 0, "bytes": 0}')


def save_waiting(conn, sizes):
    boxinfo.put(conn, WAITING, json.dumps({"pouches": len(sizes), "bytes": sum(sizes)}))
