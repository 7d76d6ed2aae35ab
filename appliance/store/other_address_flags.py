"""Read state owed to the relay: when the owner reads (or marks unread) mail that came
through an external account, the account's IMAP server should learn it at the next sync.

One row per message, the latest wish only: reading then marking unread before a sync
sends one FlagRecord, not two.  A row leaves when the pouch carrying it is taken."""

import time

import sqlalchemy as sa

from pouch.records import FlagRecord

from appliance.store.other_address_tables import other_address_flags
from appliance.store.tables import messages, user_messages

ORIGIN_PREFIX = "relay:"  # incoming mail keeps the relay's record id as origin "relay:<id>"


def note(conn, user_id, message_ids, seen):
    """Before the user's read state of ``message_ids`` becomes ``seen``: queue those of them
    that came through an account and whose state really changes."""
    query = (sa.select(messages.c.origin_id)
             .join(user_messages, user_messages.c.message_id == messages.c.id)
             .where(user_messages.c.user_id == user_id, messages.c.id.in_(list(message_ids)),
                    user_messages.c.is_read != seen, messages.c.account_id.is_not(None),
                    messages.c.origin_id.like(ORIGIN_PREFIX + "%")))
    now = int(time.time())
    for origin in conn.execute(query).scalars().all():
        relay_id = origin[len(ORIGIN_PREFIX):]
        conn.execute(other_address_flags.delete().where(other_address_flags.c.relay_message_id == relay_id))
        conn.execute(other_address_flags.insert().values(relay_message_id=relay_id, seen=seen, at=now))


def owed(conn, relay_message_id):
    """Whether a read state the user set here waits to go to the relay for this message."""
    return conn.execute(sa.select(other_address_flags.c.id).where(
        other_address_flags.c.relay_message_id == relay_message_id)).first() is not None


def pending(conn):
    """(FlagRecords, row ids) waiting for the relay, oldest first."""
    rows = conn.execute(sa.select(other_address_flags).order_by(other_address_flags.c.id)).mappings().all()
    return ([FlagRecord(message_id=row["relay_message_id"], seen=row["seen"], at=row["at"]) for row in rows],
            [row["id"] for row in rows])


def forget(conn, row_ids):
    """The relay took these; a wish changed since it was packed has a new row and stays."""
    if row_ids:
        conn.execute(other_address_flags.delete().where(other_address_flags.c.id.in_(list(row_ids))))
