"""A user says mail that came from the relay is spam, or not: the relay's filter learns it
(VerdictRecord at the next upload); spam leaves the inbox for the trash, as "Move to trash" does."""

import time

from pouch.records import VerdictRecord

from appliance.store import mailbox, other_address_flags, relay_requests, users
from appliance.store.messages import TRASH


def relay_id(row):
    """The relay's record id of a message row that came from the relay, else None."""
    origin, prefix = row["origin_id"] or "", other_address_flags.ORIGIN_PREFIX
    return origin[len(prefix):] if origin.startswith(prefix) else None


def mark(conn, user_id, message_id, spam, now=None):
    """Queue the user's verdict on their message ``message_id``; returns 1 if it was one from
    the relay (others have no filter to teach)."""
    row = mailbox.message(conn, user_id, message_id)
    if row is None or relay_id(row) is None:
        return 0
    user = users.find_by_id(conn, user_id)
    relay_requests.queue(conn, VerdictRecord(message_id=relay_id(row), spam=spam,
                                             at=int(time.time()) if now is None else now, user=user["email"]))
    if spam:
        mailbox.to_trash(conn, user_id, message_id)
    elif row["folder"] == TRASH:
        mailbox.restore(conn, user_id, message_id)
    return 1
