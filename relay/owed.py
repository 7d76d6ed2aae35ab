"""Records owed to a box: what the relay must tell it in a later pouch (the fate of the mail it
sent, how its external accounts sync, read state set elsewhere).  Each is kept as its kind, its
subject (what it is about: the record's first field) and its fields, so packing writes every
kind alike; they are packed, offered and acked like mail (relay.boxsync)."""

import dataclasses
import json

import sqlalchemy as sa

from pouch import limits
from pouch.container import wire
from relay.schema import records_owed


def owe(db, box_id, record, replace=False):
    """Owe ``record`` to box ``box_id``.  ``replace``: instead of the record of its kind and
    subject still waiting to be packed, if there is one (a box that syncs once a night learns an
    account's last state, not every flap)."""
    kind = wire.kind_of(record)
    if wire.RELAY not in kind.sent_by:
        raise ValueError(f"a relay does not send {kind.name} records")
    # Its text may quote a server (a status's reason): NUL goes, as the box takes no text with it.
    record = dataclasses.replace(record, **{f.name: limits.without_nul(getattr(record, f.name))
                                            for f in dataclasses.fields(record)})
    wire.decode(wire.encode(record))  # a record the box would refuse is refused here, where its cause is
    subject = str(getattr(record, kind.fields[0][0]))
    fields = json.dumps(dataclasses.asdict(record), ensure_ascii=False, default=_bytes_as_hex)
    waiting = _waiting(db, box_id, kind.name, subject) if replace else None
    if waiting is not None:
        db.execute(records_owed.update().where(records_owed.c.id == waiting.id).values(fields=fields))
    else:
        db.execute(records_owed.insert().values(box_id=box_id, kind=kind.name, subject=subject, fields=fields))


def waiting(db, box_id, kind, subject):
    """The record of ``kind`` about ``subject`` owed to the box and not packed yet, or None."""
    row = _waiting(db, box_id, kind, subject)
    return None if row is None else record_of(row)


def _waiting(db, box_id, kind, subject):
    return db.execute(sa.select(records_owed).where(
        records_owed.c.box_id == box_id, records_owed.c.kind == kind, records_owed.c.subject == subject,
        records_owed.c.pouch_name.is_(None), records_owed.c.delivered_at.is_(None))).first()


def pending(db, box_id):
    """The rows owed to the box that no pouch carries yet, oldest first."""
    return db.execute(sa.select(records_owed).where(
        records_owed.c.box_id == box_id, records_owed.c.pouch_name.is_(None),
        records_owed.c.delivered_at.is_(None)).order_by(records_owed.c.id)).all()


def record_of(row):
    """The record a row of ``pending`` holds."""
    return wire.kind_named(row.kind).record(**json.loads(row.fields, object_hook=_hex_as_bytes))


def release(db, box_id, pouch_name):
    """The records of pouch ``pouch_name``, which the box could not read, travel in the next one."""
    db.execute(records_owed.update().where(
        records_owed.c.box_id == box_id, records_owed.c.pouch_name == pouch_name,
        records_owed.c.delivered_at.is_(None)).values(pouch_name=None))


BYTES = "$bytes"  # JSON has no bytes: a digest is kept as {"$bytes": its hex}


def _bytes_as_hex(value):
    if isinstance(value, bytes):
        return {BYTES: value.hex()}
    raise TypeError(f"{type(value).__name__} is not a record's field")


def _hex_as_bytes(value):
    return bytes.fromhex(value[BYTES]) if set(value) == {BYTES} else value
