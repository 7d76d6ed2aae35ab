"""External accounts as they travel: AccountRecords owed to the relay (every account
changed since the relay last took it) and AccountStatusRecords coming back."""

import sqlalchemy as sa

from pouch.records import AccountRecord

from appliance.store.other_address_tables import other_addresses
from appliance.store.tables import users

RELAY_STATES = ("syncing", "paused", "error", "removed")

PENDING = (sa.select(other_addresses, users.c.email.label("owner"))
           .join(users, users.c.id == other_addresses.c.user_id)
           .where(other_addresses.c.version > other_addresses.c.taken_version)
           .order_by(other_addresses.c.created_at, other_addresses.c.id))


def pending(conn):
    """(AccountRecords, {account id: version packed}) of accounts the relay has not seen as they are."""
    rows = conn.execute(PENDING).mappings().all()
    records = [AccountRecord(id=row["id"], owner=row["owner"], address=row["address"],
                             state=row["state"], sealed=row["sealed"] or b"") for row in rows]
    return records, {row["id"]: row["version"] for row in rows}


def taken(conn, versions):
    """The relay took a pouch with these accounts at these versions.  Their sealed settings
    go, unless the user changed the account again since it was packed: that change (and
    its newly sealed settings) still waits for the next pouch."""
    table = other_addresses.c
    for account_id, version in versions.items():
        conn.execute(other_addresses.update().where(table.id == account_id, table.version == version)
                     .values(sealed=None))
        conn.execute(other_addresses.update().where(table.id == account_id, table.taken_version < version)
                     .values(taken_version=version))


def apply_status(conn, status):
    """An AccountStatusRecord: how the relay's syncing of the account goes; returns 1 if applied."""
    if status.state not in RELAY_STATES:
        return 0
    table = other_addresses.c
    values = dict(relay_state=status.state, relay_error=status.error[:500], relay_at=status.at)
    if status.synced_at:
        values["synced_at"] = status.synced_at
    result = conn.execute(other_addresses.update().where(  # an older report never wins
        table.id == status.id, sa.or_(table.relay_at.is_(None), table.relay_at <= status.at))
        .values(**values))
    return result.rowcount
