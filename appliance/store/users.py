"""Users of the box: sign-up rules, authentication and administration."""

import re
import time

import sqlalchemy as sa

from appliance.store import passwords, sessions
from appliance.store.errors import N_, StoreError
from appliance.store.tables import users

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9]|[._-](?=[a-z0-9])){1,31}$")
RESERVED_NAMES = frozenset({
    "admin", "administrator", "postmaster", "hostmaster", "webmaster", "abuse", "root",
    "mailer-daemon", "noreply", "no-reply", "support", "security", "info",
})
MIN_PASSWORD = 8


def address_for(name, domain):
    return f"{name.strip().lower()}@{domain}"


def check_name(name, allow_reserved=False):
    name = name.strip().lower()
    if not NAME_PATTERN.match(name):
        raise StoreError(N_("A name has 2 to 32 letters, digits, dots, dashes or underscores, "
                            "and starts and ends with a letter or digit."))
    if name in RESERVED_NAMES and not allow_reserved:
        raise StoreError(N_("This name is reserved. Please choose another."))
    return name


def check_password(password):
    if len(password) < MIN_PASSWORD:
        raise StoreError(N_("A password needs at least 8 characters."))
    return password


def create_user(conn, name, domain, password, display_name="", is_admin=False,
                allow_reserved=False, language=None, password_hash=None):
    email = address_for(check_name(name, allow_reserved), domain)
    check_password(password)
    if find_by_email(conn, email) is not None:
        raise StoreError(N_("This address is already taken."))
    result = conn.execute(users.insert().values(
        email=email, display_name=display_name.strip()[:100],
        password_hash=password_hash or passwords.hash_password(password), is_admin=is_admin,
        suspended=False, language=language, created_at=int(time.time())))
    return result.inserted_primary_key[0]


def find_by_email(conn, email):
    query = sa.select(users).where(users.c.email == email.strip().lower())
    return conn.execute(query).mappings().first()


BY_ID = sa.select(users).where(users.c.id == sa.bindparam("user_id"))  # every request: built once


def find_by_id(conn, user_id):
    return conn.execute(BY_ID, {"user_id": user_id}).mappings().first()


def find_many(conn, emails):
    """Users by address, as {email: row}."""
    if not emails:
        return {}
    query = sa.select(users).where(users.c.email.in_([e.lower() for e in emails]))
    return {row["email"]: row for row in conn.execute(query).mappings()}


def authenticate(conn, email, password):
    """The user row when ``password`` is right and the account usable, else None."""
    user = find_by_email(conn, email)
    if user is None:
        passwords.hash_password(password)  # same cost either way: no probing for addresses
        return None
    if not passwords.verify_password(password, user["password_hash"]):
        return None
    return user


async def authenticate_off_loop(store, email, password):
    """``authenticate`` for the server: the hash is computed in the hashing pool."""
    with store.read() as conn:
        user = find_by_email(conn, email)
    right = await passwords.verify_off_loop(password, user["password_hash"] if user else None)
    return user if right else None


def set_password(conn, user_id, password, password_hash=None):
    """A new password ends every session of the user (the caller may start a new one)."""
    check_password(password)
    _update(conn, user_id, password_hash=password_hash or passwords.hash_password(password))
    sessions.end_all(conn, user_id)


def set_language(conn, user_id, language):
    _update(conn, user_id, language=language or None)


def set_suspended(conn, user_id, suspended):
    """A suspended user cannot sign in (their sessions end); their mail stays."""
    if suspended:
        _keep_an_admin(conn, user_id)
        sessions.end_all(conn, user_id)
    _update(conn, user_id, suspended=bool(suspended))


def set_admin(conn, user_id, is_admin):
    if not is_admin:
        _keep_an_admin(conn, user_id)
    _update(conn, user_id, is_admin=bool(is_admin))


def _keep_an_admin(conn, user_id):
    """Refuse to take away the last active admin."""
    if count(conn, admins_only=True) <= 1 and find_by_id(conn, user_id)["is_admin"]:
        raise StoreError(N_("The box needs at least one admin."))


def _update(conn, user_id, **values):
    conn.execute(users.update().where(users.c.id == user_id).values(**values))


def count(conn, admins_only=False):
    query = sa.select(sa.func.count()).select_from(users)
    if admins_only:
        query = query.where(users.c.is_admin == sa.true(), users.c.suspended == sa.false())
    return conn.execute(query).scalar_one()


def page(conn, offset, limit):
    query = sa.select(users).order_by(users.c.email).offset(offset).limit(limit)
    return conn.execute(query).mappings().all()
