"""What the sync job must remember between attempts, in ``box_state``:
the relay it is registered with, pouches imported but not yet acked, and the
outgoing pouch in flight.  Kept in the database so a crash or a dropped link
resumes where it stopped instead of starting from zero."""

import json

from appliance.store import boxinfo

RELAY_URL, BOX_NAME, BOX_DOMAIN = "relay_url", "relay_box_name", "relay_box_domain"
UNACKED = "sync_unacked"  # names of pouches imported, the relay not yet told
UPLOAD = "sync_upload"  # the outgoing pouch in flight: {path, uids, name, url, done}


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
