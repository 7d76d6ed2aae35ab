"""Each user's other addresses (Gmail, Yahoo, a school account) that the relay syncs.

The password never touches the disk in the clear: the settings are sealed to the
relay's public key (``pouch.sealing``) the moment they are entered, and only the
sealed bytes are kept, until the pouch carrying them is taken by the relay
(``other_address_records.taken``).  Every change bumps ``version``; the relay has seen
an account up to ``taken_version``."""

import json
import secrets
import time

import sqlalchemy as sa

from pouch import sealing
from pouch.records import ACCOUNT_ACTIVE, ACCOUNT_PAUSED, ACCOUNT_REMOVED

from appliance.store import other_address_form
from appliance.store.other_address_tables import other_addresses
from appliance.store.errors import N_, StoreError

MAX_PER_USER = 10
USABLE = (ACCOUNT_ACTIVE, ACCOUNT_PAUSED)  # shown, and offered as a From address


def add(conn, user, form, relay_key, domain):
    """Add ``form`` (an AccountForm) for ``user``; returns the new account's id."""
    address = other_address_form.check_address(form.address)
    if address.rsplit("@", 1)[1] == domain:
        raise StoreError(N_("This is an address of this box already."))
    kept = other_address_form.servers(form)
    sealed = _seal(relay_key, kept, other_address_form.secrets(form, kept["auth"]))
    mine = list_for(conn, user["id"])
    if any(row["address"] == address for row in mine):
        raise StoreError(N_("You have added %(address)s already."), address=address)
    if len(mine) >= MAX_PER_USER:
        raise StoreError(N_("You have too many other addresses. Remove one you no longer use."))
    account_id = secrets.token_hex(12)
    conn.execute(other_addresses.insert().values(
        id=account_id, user_id=user["id"], address=address, state=ACCOUNT_ACTIVE,
        display_name=(form.display_name.strip() or user["display_name"])[:100],
        servers_json=json.dumps(kept), sealed=sealed, version=1, taken_version=0,
        relay_error="", created_at=int(time.time())))
    return account_id


def change_secret(conn, user_id, account_id, form, relay_key):
    """A new password (or OAuth2 secrets) for an account, sealed like the first."""
    row = _usable(conn, user_id, account_id)
    kept = json.loads(row["servers_json"])
    sealed = _seal(relay_key, kept, other_address_form.secrets(form, kept["auth"]))
    _change(conn, row, sealed=sealed)


def pause(conn, user_id, account_id):
    _change(conn, _usable(conn, user_id, account_id), state=ACCOUNT_PAUSED)


def resume(conn, user_id, account_id):
    _change(conn, _usable(conn, user_id, account_id), state=ACCOUNT_ACTIVE)


def remove(conn, user_id, account_id):
    """Stop syncing; the relay deletes its credentials when it takes the change.  An
    account the relay never heard of simply goes (no mail can have come through it)."""
    row = _usable(conn, user_id, account_id)
    if row["taken_version"] == 0:
        conn.execute(other_addresses.delete().where(other_addresses.c.id == row["id"]))
        return
    _change(conn, row, state=ACCOUNT_REMOVED, sealed=None)


def list_for(conn, user_id):
    """The user's accounts that are not removed, oldest first."""
    query = (sa.select(other_addresses)
             .where(other_addresses.c.user_id == user_id, other_addresses.c.state.in_(USABLE))
             .order_by(other_addresses.c.created_at, other_addresses.c.id))
    return conn.execute(query).mappings().all()


def find(conn, user_id, account_id):
    """One of the user's accounts (removed ones too), or None."""
    query = sa.select(other_addresses).where(other_addresses.c.id == account_id,
                                               other_addresses.c.user_id == user_id)
    return conn.execute(query).mappings().first()


def addresses_of(conn, user_id):
    """{account id: address} of all the user's accounts, removed ones too: old mail keeps its tag."""
    query = sa.select(other_addresses.c.id, other_addresses.c.address).where(
        other_addresses.c.user_id == user_id)
    return {row.id: row.address for row in conn.execute(query)}


def sender(conn, user_id, account_id):
    """``(display name, address)`` to send from account ``account_id``; StoreError if it cannot."""
    row = find(conn, user_id, account_id)
    if row is None or row["state"] not in USABLE:
        raise StoreError(N_("You can no longer send from this address: choose another."))
    return row["display_name"], row["address"]


def servers(row):
    """The non-secret settings of an account row, for showing."""
    return json.loads(row["servers_json"])


def _usable(conn, user_id, account_id):
    row = find(conn, user_id, account_id)
    if row is None or row["state"] not in USABLE:
        raise StoreError(N_("This address is not among yours any more."))
    return row


def _seal(relay_key, kept, secret):
    if relay_key is None:
        raise StoreError(N_("Other addresses can be added after the box's next sync with the relay."))
    return sealing.seal(relay_key, other_address_form.settings(kept, secret))


def _change(conn, row, **values):
    """Any change: the relay is told at the next sync (``version`` above ``taken_version``)."""
    conn.execute(other_addresses.update().where(other_addresses.c.id == row["id"]).values(
        version=other_addresses.c.version + 1, **values))
