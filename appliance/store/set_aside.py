"""What the box could not take from the relay, kept aside with its reason: a pouch that would
not import twice over (its file kept), or one message of a pouch whose rest was imported (the
message kept as a pouch of its own, so `mailpouch-pouch inspect` reads it).  The admin sees
them on the sync page; the relay is told in the next sync request, and stops offering them."""

import hashlib
import time
from pathlib import Path

import sqlalchemy as sa

from appliance.store.tables import set_aside

FOLDER = "set-aside"
MAX_REASON = 1000  # characters kept of a reason, on the box and in the report to the relay


def folder(store):
    path = Path(store.data_dir) / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_name(pouch_name, record_id=None):
    """A file name for what is set aside: the pouch's name, flattened, and a digest of the
    record's id (ids are the relay's: any text)."""
    stem = pouch_name.replace("/", "_").removesuffix(".pouch")
    if record_id is not None:
        stem += "." + hashlib.sha256(record_id.encode()).hexdigest()[:16]
    return stem + ".pouch"


def add(conn, pouch_name, reason, file="", record_id=None, summary=""):
    """Note something set aside (in the caller's transaction); a repeat changes nothing."""
    exists = conn.execute(sa.select(set_aside.c.id).where(
        set_aside.c.pouch_name == pouch_name, _is_record(record_id))).first()
    if exists is None:
        conn.execute(set_aside.insert().values(
            pouch_name=pouch_name, record_id=record_id, summary=summary[:300],
            reason=reason[:MAX_REASON], file=file, at=int(time.time())))


def _is_record(record_id):
    return set_aside.c.record_id.is_(None) if record_id is None else set_aside.c.record_id == record_id


def pouch_names(conn):
    """Names of the pouches set aside whole: never downloaded again, whatever the relay offers."""
    return set(conn.execute(sa.select(set_aside.c.pouch_name).where(set_aside.c.record_id.is_(None))).scalars())


def unreported(conn, limit):
    """Up to ``limit`` rows the relay has not been told about yet, oldest first."""
    return conn.execute(sa.select(set_aside).where(set_aside.c.reported_at.is_(None))
                        .order_by(set_aside.c.id).limit(limit)).mappings().all()


def reported(conn, ids):
    if ids:
        conn.execute(set_aside.update().where(set_aside.c.id.in_(list(ids)))
                     .values(reported_at=int(time.time())))


def listing(conn, limit=100):
    """The newest rows first, for the admin's sync page."""
    return conn.execute(sa.select(set_aside).order_by(set_aside.c.id.desc()).limit(limit)).mappings().all()
