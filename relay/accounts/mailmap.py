"""The folders of each account and the map of the messages synced from it.

A message is known per account by its key (its Message-ID, else a digest of
the message), so no re-sync — after a restart, a cut connection or a new
UIDVALIDITY — queues it for the box twice.  Its (uidvalidity, uid) binding
says where it is on the server now; read state the box wants waits here until
it is set there.
"""

import hashlib

import sqlalchemy as sa

from pouch import limits

from relay.accounts import statuses
from relay.schema import account_folders, account_messages, accounts, deliveries

INBOX, SENT = "inbox", "sent"
MAX_KEY = 255


def key_of(message_id, raw=None):
    """The dedupe key of a message: its Message-ID, else (with ``raw``) a digest of it."""
    if message_id:
        return message_id if len(message_id) <= MAX_KEY else "id-sha256:" + _digest(message_id.encode())
    return "sha256:" + _digest(raw) if raw is not None else None


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def folder(db, account_id, role):
    return db.execute(sa.select(account_folders).where(
        account_folders.c.account_id == account_id, account_folders.c.role == role)).mappings().first()


def save_folder(db, account_id, role, name, **values):
    """Create or update the account's folder of ``role``; returns its row."""
    row = folder(db, account_id, role)
    if row is None:
        db.execute(account_folders.insert().values(account_id=account_id, role=role, name=name, **values))
    else:
        db.execute(account_folders.update().where(account_folders.c.id == row["id"]).values(name=name, **values))
    return folder(db, account_id, role)


def start_over(db, folder_row, uidvalidity):
    """The folder's UIDVALIDITY changed: its uids mean nothing now.  Drop their bindings (the
    messages stay known by key) and start the folder's window sync again."""
    db.execute(account_messages.update().where(account_messages.c.folder_id == folder_row["id"])
               .values(uidvalidity=None, uid=None))
    db.execute(account_folders.update().where(account_folders.c.id == folder_row["id"])
               .values(uidvalidity=uidvalidity, uidnext=None, highestmodseq=None))


def known_uids(db, folder_id, uidvalidity, uids):
    """Those of ``uids`` already synced (bound in this folder and UIDVALIDITY)."""
    return set(db.execute(sa.select(account_messages.c.uid).where(
        account_messages.c.folder_id == folder_id, account_messages.c.uidvalidity == uidvalidity,
        account_messages.c.uid.in_(list(uids)))).scalars())


def known_keys(db, account_id, keys):
    """{key: message row id} of those of ``keys`` already synced from this account."""
    keys = [key for key in keys if key]
    if not keys:
        return {}
    return dict(db.execute(sa.select(account_messages.c.key, account_messages.c.id).where(
        account_messages.c.account_id == account_id, account_messages.c.key.in_(keys))).all())


def bind(db, message_row_id, folder_id, uidvalidity, uid):
    """A known message found again (at a new uid): bind it there."""
    db.execute(account_messages.update().where(account_messages.c.id == message_row_id)
               .values(folder_id=folder_id, uidvalidity=uidvalidity, uid=uid))


def add(db, account_id, folder_id, uidvalidity, uid, key, inbound_id, seen):
    db.execute(account_messages.insert().values(
        account_id=account_id, folder_id=folder_id, uidvalidity=uidvalidity, uid=uid, key=key,
        inbound_id=inbound_id, seen=seen))


# -- read state the box wants on the server ------------------------------------------------

def want_seen(db, box_id, flags):
    """Keep each FlagRecord's wish for the message it names; returns how many applied.

    The message id is the relay's record id (its inbound id); wishes for mail not
    synced from an account of this box are ignored.  A wish older than one kept
    already does not replace it.
    """
    applied = 0
    for flag in flags:
        inbound_id = limits.whole_number(flag.message_id)
        if inbound_id is None:
            continue
        mine = sa.select(accounts.c.id).where(accounts.c.box_id == box_id).scalar_subquery()
        applied += db.execute(account_messages.update().where(
            account_messages.c.inbound_id == inbound_id, account_messages.c.account_id.in_(mine),
            sa.or_(account_messages.c.wanted_at.is_(None), account_messages.c.wanted_at <= flag.at),
        ).values(seen_wanted=bool(flag.seen), wanted_at=flag.at)).rowcount
    return applied


def server_seen(db, account, folder_id, uidvalidity, changes):
    """The server's read state ({uid: seen}) of mapped messages, where it differs from what
    the relay knew and the box wishes nothing else: kept, and owed to the box as a FlagRecord.
    Returns how many changed."""
    rows = db.execute(sa.select(account_messages.c.id, account_messages.c.uid, account_messages.c.inbound_id)
                      .where(account_messages.c.folder_id == folder_id, account_messages.c.uidvalidity == uidvalidity,
                             account_messages.c.uid.in_(list(changes)), account_messages.c.seen_wanted.is_(None),
                             account_messages.c.inbound_id.isnot(None))).all()
    changed = 0
    for row in rows:
        seen = changes[row.uid]
        if db.execute(account_messages.update().where(account_messages.c.id == row.id,
                                                      account_messages.c.seen != seen)
                      .values(seen=seen)).rowcount:
            statuses.owe_flag(db, account["box_id"], row.inbound_id, seen)
            changed += 1
    return changed


def wishes(db, account_id):
    """Wishes that can be applied now (the message is bound to a uid): rows with folder name."""
    return db.execute(sa.select(account_messages.c.id, account_messages.c.uid, account_messages.c.uidvalidity,
                                account_messages.c.seen_wanted, account_messages.c.wanted_at,
                                account_folders.c.name.label("folder"))
                      .join(account_folders, account_folders.c.id == account_messages.c.folder_id)
                      .where(account_messages.c.account_id == account_id,
                             account_messages.c.seen_wanted.isnot(None),
                             account_messages.c.uidvalidity == account_folders.c.uidvalidity,
                             account_messages.c.uid.isnot(None))).all()


def wishes_done(db, rows):
    """The server has the read state of these wish rows: it is the message's state now."""
    for row in rows:
        db.execute(account_messages.update().where(
            account_messages.c.id == row.id, account_messages.c.wanted_at == row.wanted_at,
        ).values(seen=row.seen_wanted, seen_wanted=None))


def accounts_with_wishes(engine, account_ids):
    """Those of ``account_ids`` holding wishes that can be applied now."""
    if not account_ids:
        return set()
    with engine.connect() as db:
        return set(db.execute(sa.select(account_messages.c.account_id).distinct()
                              .join(account_folders, account_folders.c.id == account_messages.c.folder_id)
                              .where(account_messages.c.account_id.in_(list(account_ids)),
                                     account_messages.c.seen_wanted.isnot(None),
                                     account_messages.c.uidvalidity == account_folders.c.uidvalidity,
                                     account_messages.c.uid.isnot(None))).scalars())


# -- tags of the account's mail in the box's pouches ---------------------------------------

def tags(engine, delivery_ids):
    """{delivery id: {"account": the box's account id[, "seen": True]}} of deliveries synced
    from an account, for MessageRecord.extra (accounts contract)."""
    if not delivery_ids:
        return {}
    with engine.connect() as db:
        rows = db.execute(sa.select(deliveries.c.id, accounts.c.box_account_id, account_messages.c.seen,
                                    account_messages.c.seen_wanted)
                          .join(account_messages, account_messages.c.inbound_id == deliveries.c.inbound_id)
                          .join(accounts, accounts.c.id == account_messages.c.account_id)
                          .where(deliveries.c.id.in_(list(delivery_ids)),
                                 accounts.c.box_id == deliveries.c.box_id)).all()
    return {row.id: _tag(row.box_account_id, row.seen if row.seen_wanted is None else row.seen_wanted)
            for row in rows}


def _tag(box_account_id, seen):
    return {"account": box_account_id, "seen": True} if seen else {"account": box_account_id}


def forget(db, account_id):
    """Delete what the relay keeps of an account's folders and messages (the mail stays queued)."""
    db.execute(account_messages.delete().where(account_messages.c.account_id == account_id))
    db.execute(account_folders.delete().where(account_folders.c.account_id == account_id))
