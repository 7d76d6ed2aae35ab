"""Sign-in sessions kept on the box (migration a0007), so that signing out ends one for good.

The cookie carries a random id; the table holds only its sha256, so a copy of the database
signs no one in.  A new password or a suspension ends a user's sessions; API tokens are apart.
"""

import hashlib
import secrets
import time

import sqlalchemy as sa

from appliance.store.tables import sessions, users

DAYS = 30

USER_FOR = (sa.select(users).join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.id == sa.bindparam("key"), sessions.c.expires_at > sa.bindparam("now")))


def _key(token):
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn, user_id, now=None):
    """A new session for the user; returns the token for the cookie."""
    now = int(now or time.time())
    conn.execute(sessions.delete().where(sessions.c.expires_at <= now))
    token = secrets.token_urlsafe(32)
    conn.execute(sessions.insert().values(id=_key(token), user_id=user_id, created_at=now,
                                          expires_at=now + DAYS * 86400))
    return token


def user_for(conn, token, now=None):
    """The user row of a live session, or None."""
    if not token:
        return None
    return conn.execute(USER_FOR, {"key": _key(token), "now": int(now or time.time())}).mappings().first()


def end(conn, token):
    conn.execute(sessions.delete().where(sessions.c.id == _key(token)))


def end_all(conn, user_id):
    conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
