"""API tokens: made once and shown once, kept only as a hash, revocable by their owner.

A token carries 256 random bits, so a plain SHA-256 is enough to keep it: unlike a
password it cannot be guessed, and a memory-hard hash would slow every API call."""

import hashlib
import secrets
import time

import sqlalchemy as sa

from appliance.store.api_tables import api_tokens
from appliance.store.errors import N_, StoreError
from appliance.store.tables import users

PREFIX = "mpt_"  # recognisable in logs and by secret scanners
MAX_PER_USER = 20


def _hash(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create(conn, user_id, name):
    """Make a token for ``user_id``; returns the token itself, the only time it exists in clear."""
    name = " ".join(name.split())[:100]
    if not name:
        raise StoreError(N_("Give the token a name, to know later what uses it."))
    if len(list_for(conn, user_id)) >= MAX_PER_USER:
        raise StoreError(N_("You have too many tokens. Revoke one you no longer use."))
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(api_tokens.insert().values(user_id=user_id, name=name, token_hash=_hash(token),
                                            created_at=int(time.time())))
    return token


def list_for(conn, user_id):
    query = (sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at,
                       api_tokens.c.last_used_at)
             .where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id))
    return conn.execute(query).mappings().all()


def revoke(conn, user_id, token_id):
    """Delete one of the user's tokens; returns whether there was one."""
    result = conn.execute(api_tokens.delete().where(api_tokens.c.id == token_id,
                                                    api_tokens.c.user_id == user_id))
    return bool(result.rowcount)


# Built once: every API request looks its token up.
BY_HASH = (sa.select(users, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
           .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
           .where(api_tokens.c.token_hash == sa.bindparam("token_hash")))
USED_EVERY = 3600  # seconds: record use coarsely, not a write per request


def user_for(conn, token):
    """The user a token belongs to, or None (unknown, revoked, or the user suspended)."""
    if not token or len(token) > 200:
        return None
    row = conn.execute(BY_HASH, {"token_hash": _hash(token)}).mappings().first()
    if row is None or row["suspended"]:
        return None
    now = int(time.time())
    if (row["last_used_at"] or 0) < now - USED_EVERY:
        conn.execute(api_tokens.update().where(api_tokens.c.id == row["token_id"])
                     .values(last_used_at=now))
    return row
