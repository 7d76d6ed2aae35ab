"""The change log: every insert, update and delete of a message, thread, draft
or contact, as a row with an increasing id, for delta sync by API clients."""

import time

import sqlalchemy as sa

from appliance.store.tables import changes

MESSAGE, THREAD, DRAFT, CONTACT = "message", "thread", "draft", "contact"
INSERT, UPDATE, DELETE = "insert", "update", "delete"


INSERT_CHANGE = changes.insert()  # built once: every write logs


def record(conn, user_id, kind, object_id, op):
    conn.execute(INSERT_CHANGE, {"user_id": user_id, "kind": kind, "object_id": object_id,
                                 "op": op, "at": int(time.time())})


def since(conn, user_id, after_id=0, limit=500):
    """A user's changes after ``after_id``, oldest first."""
    query = (sa.select(changes).where(changes.c.user_id == user_id, changes.c.id > after_id)
             .order_by(changes.c.id).limit(limit))
    return conn.execute(query).mappings().all()
