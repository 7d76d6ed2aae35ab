"""Contacts each user learns from the mail they send and receive."""

import time

import sqlalchemy as sa

from appliance.store import changes
from appliance.store.tables import contacts


# Built once: every message sent or received teaches contacts.
FIND = sa.select(contacts.c.id, contacts.c.name).where(
    contacts.c.user_id == sa.bindparam("user_id"), contacts.c.email == sa.bindparam("email"))
INSERT = contacts.insert()
SEEN_AGAIN = contacts.update().where(contacts.c.id == sa.bindparam("contact_id")).values(
    name=sa.bindparam("name"), last_seen=sa.bindparam("now"), times=contacts.c.times + 1)


def learn(conn, user_id, addresses):
    """Remember ``(name, email)`` pairs for ``user_id``, counting how often each is used."""
    now = int(time.time())
    for name, email in addresses:
        email = email.strip().lower()
        if not email:
            continue
        known = conn.execute(FIND, {"user_id": user_id, "email": email}).first()
        if known is None:
            result = conn.execute(INSERT, {"user_id": user_id, "email": email, "name": name[:200],
                                           "last_seen": now, "times": 1})
            changes.record(conn, user_id, changes.CONTACT, result.inserted_primary_key[0],
                           changes.INSERT)
            continue
        conn.execute(SEEN_AGAIN, {"contact_id": known.id, "name": name[:200] or known.name,
                                  "now": now})
        changes.record(conn, user_id, changes.CONTACT, known.id, changes.UPDATE)


def most_used(conn, user_id, limit=200):
    query = (sa.select(contacts.c.name, contacts.c.email).where(contacts.c.user_id == user_id)
             .order_by(contacts.c.times.desc(), contacts.c.last_seen.desc()).limit(limit))
    return conn.execute(query).all()
