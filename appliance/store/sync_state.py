"""What the sync job must remember between attempts, in ``box_state``:
the relay it is registered with, pouches imported but not yet acked, and the
outgoing pouch in flight.  Kept in the database so a crash or a dropped link
resumes where it stopped instead of starting from zero."""

import base64
import binascii
import json
import time

from appliance.store import account_flags, account_records, boxinfo, outbox
from appliance.store.tables import messages

RELAY_URL, BOX_NAME, BOX_DOMAIN = "relay_url", "relay_box_name", "relay_box_domain"
UNACKED = "sync_unacked"  # names of pouches imported, the relay not yet told
UPLOAD = "sync_upload"  # the outgoing pouch in flight: {path, uids, name, url, done}
WINDOWS = "sync_windows"  # set on the admin page; wins over [sync] windows
WAITING = "sync_waiting"  # {"pouches", "bytes"} the budget left at the relay at the last sync
ACCOUNT_KEY = "relay_account_key"  # base64 of the relay's public key for sealing account settings


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
    return json.loads(boxinfo.get(conn, UPLOAD) or "null")


def save_upload(conn, state):
    boxinfo.put(conn, UPLOAD, json.dumps(state))


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


def upload_taken(conn, upload):
    """The relay took the pouch ``upload``: its mail, account changes and read states are delivered."""
    mark_uploaded(conn, upload["uids"])
    account_records.taken(conn, upload.get("accounts", {}))
    account_flags.forget(conn, upload.get("flags", []))


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
