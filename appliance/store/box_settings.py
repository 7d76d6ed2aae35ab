"""What the box asks the relay to send down, as its admin and users chose: the spam threshold
and the automatic download limit per attachment (a user may choose a lower one for themself).
Every change owes the relay one BoxSettingsRecord, the latest replacing one not yet sent."""

import time

import sqlalchemy as sa

from pouch import limits
from pouch.records import BoxSettingsRecord

from appliance.store import boxinfo, relay_requests
from appliance.store.errors import N_, StoreError
from appliance.store.safe_text import whole_number
from appliance.store.tables import download_limits, users

SPAM_THRESHOLD = "spam_threshold"
ATTACHMENT_LIMIT = "attachment_limit"  # bytes
KB = 1024


def spam_threshold(conn):
    value = boxinfo.get(conn, SPAM_THRESHOLD)
    return float(value) if value is not None else limits.SPAM_THRESHOLD_DEFAULT


def attachment_limit(conn):
    value = boxinfo.get(conn, ATTACHMENT_LIMIT)
    return int(value) if value is not None else limits.ATTACHMENT_LIMIT_DEFAULT


def check_threshold(text):
    """A threshold typed on the admin page, or StoreError."""
    try:
        value = round(float(text.strip().replace(",", ".")), 1)
    except ValueError:
        value = None
    if value is None or not limits.SPAM_THRESHOLD_MIN <= value <= limits.SPAM_THRESHOLD_MAX:
        raise StoreError(N_("The spam threshold is a number from %(low)s to %(high)s."),
                         low=f"{limits.SPAM_THRESHOLD_MIN:g}", high=f"{limits.SPAM_THRESHOLD_MAX:g}")
    return value


def check_kb(text, most):
    """A limit in KB typed on a page, as bytes, from 0 to ``most`` bytes; else StoreError."""
    number = whole_number(text, digits=9)
    if number is None or number * KB > most:
        raise StoreError(N_("The limit is a whole number of KB, 0 to %(most)s."), most=most // KB)
    return number * KB


def save_box(conn, threshold, limit):
    boxinfo.put(conn, SPAM_THRESHOLD, threshold)
    boxinfo.put(conn, ATTACHMENT_LIMIT, limit)
    _owe(conn)


def own_limit(conn, user_id):
    """The limit the user chose for themself, or None."""
    return conn.execute(sa.select(download_limits.c.bytes).where(download_limits.c.user_id == user_id)).scalar()


def user_limit(conn, user_id):
    """The limit that applies to the user: theirs when lower than the box's."""
    own, box = own_limit(conn, user_id), attachment_limit(conn)
    return box if own is None else min(own, box)


def save_user_limit(conn, user_id, limit):
    """The user's own limit (None: the box's); it cannot be over the box's."""
    if limit is not None and limit > attachment_limit(conn):
        raise StoreError(N_("Your limit cannot be over the box's, %(most)s KB."), most=attachment_limit(conn) // KB)
    conn.execute(download_limits.delete().where(download_limits.c.user_id == user_id))
    if limit is not None:
        conn.execute(download_limits.insert().values(user_id=user_id, bytes=limit))
    _owe(conn)


def record(conn, now=None):
    """The BoxSettingsRecord of what is chosen now."""
    box = attachment_limit(conn)
    lower = conn.execute(sa.select(users.c.email, download_limits.c.bytes)
                         .join(users, users.c.id == download_limits.c.user_id)
                         .where(download_limits.c.bytes < box)).all()
    return BoxSettingsRecord(spam_threshold=spam_threshold(conn), attachment_limit=box,
                             user_limits={email: limit for email, limit in lower},
                             at=int(time.time()) if now is None else now)


def _owe(conn):
    relay_requests.queue(conn, record(conn))
