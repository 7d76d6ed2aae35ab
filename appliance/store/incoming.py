"""Importing mail that the relay sent down in a pouch."""

import dataclasses
import logging
import secrets
import time

import sqlalchemy as sa

from appliance.store import addresses, contacts, mailbox, other_address_flags, placeholders, search_index
from appliance.store import users as box_users
from appliance.store.messages import INBOX, RECEIVED, add_view, insert_attachment
from appliance.store.tables import messages, user_messages, users
from pouch import limits
from pouch.mime import bodytext

log = logging.getLogger(__name__)

MAX_RECORD_ID = 190  # the relay's id, kept as origin_id (200 characters) with its prefix


class RecordRefused(Exception):
    """A record from the relay the store will not take, and why; raised before anything
    of it is written, so the rest of its pouch can still be imported."""


def check_incoming(record):
    if not 0 < len(record.id) <= MAX_RECORD_ID:
        raise RecordRefused(f"its id has {len(record.id)} characters (1 to {MAX_RECORD_ID} expected)")


def deliver_incoming(store, conn, record, blobs):
    """Store one ``pouch.records.MessageRecord`` for its local recipients.

    ``blobs`` maps raw sha256 digests to attachment bytes (the pouch's BlobRecords).
    Idempotent: a record already imported (same ``record.id``) is not stored again.
    Mail for addresses nobody has goes to the admins rather than being lost.
    Mail the relay synced from an external account carries ``extra["account"]`` (kept,
    to show which address it came to) and arrives read when ``extra["seen"]``.
    Returns the message id; RecordRefused (nothing written) for a record it cannot take.
    """
    check_incoming(record)
    if not limits.usable_date(record.date):
        record = dataclasses.replace(record, date=0)
    origin = f"relay:{record.id}"
    known = conn.execute(sa.select(messages.c.id).where(messages.c.origin_id == origin)).scalar()
    if known is not None:
        return known
    owners = owners_of(conn, record.recipients)
    message_id = _insert(conn, origin, record)
    for attachment in record.attachments:
        sha_hex = attachment.sha256.hex()
        data = blobs.get(attachment.sha256)
        if data is not None:
            store.attachment_files.put(data, expected_hex=sha_hex)
        insert_attachment(conn, message_id, attachment.name, attachment.type, attachment.size,
                          sha_hex, attachment.cid, attachment.inline)
        placeholders.keep(conn, message_id, attachment)
    for user_id in owners:
        add_view(conn, user_id, message_id, INBOX, record.subject, record.date,
                 [*record.references, record.in_reply_to], is_read=record.extra.get("seen") is True,
                 automatic=record.automatic)
        contacts.learn(conn, user_id, record.from_)
    everyone = addresses.format_list([*record.from_, *record.to, *record.cc])
    search_index.index_message(conn, message_id, record.subject, everyone,
                               bodytext.body_text(record.body, record.body_type), owners)
    return message_id


def apply_server_read_state(conn, flag):
    """A FlagRecord from the relay: another of the owner's mail clients read (or unread) this
    message on its account's server, so the copies here follow.  A change the user made here
    since, still owed to the relay, wins.  Returns how many copies changed."""
    message_id = conn.execute(sa.select(messages.c.id).where(
        messages.c.origin_id == other_address_flags.ORIGIN_PREFIX + flag.message_id,
        messages.c.account_id.is_not(None))).scalar()
    if message_id is None or other_address_flags.owed(conn, flag.message_id):
        return 0
    owners = conn.execute(sa.select(user_messages.c.user_id).where(
        user_messages.c.message_id == message_id, user_messages.c.is_read != flag.seen)).scalars().all()
    for user_id in owners:
        mailbox.set_flags(conn, user_id, [message_id], tell_server=False, is_read=flag.seen)
    return len(owners)


def store_awaited_blobs(store, conn, blobs):
    """Keep attachment bytes that follow their message in a later pouch (the relay sends big
    mail's text first, and what a user asked for when it was asked); returns how many a
    message was waiting for."""
    wanted = {digest.hex(): data for digest, data in blobs.items()}
    awaited = placeholders.awaited(conn, wanted)
    for sha_hex in awaited:
        store.attachment_files.put(wanted[sha_hex], expected_hex=sha_hex)
    placeholders.answered(conn, awaited)
    return len(awaited)


def owners_of(conn, local_addresses):
    """The ids of the users these local addresses name; the admins' when they name nobody."""
    found = box_users.find_many(conn, local_addresses)
    unknown = sorted(set(a.lower() for a in local_addresses) - set(found))
    if unknown:
        log.warning("incoming mail for unknown addresses %s goes to the admins", ", ".join(unknown))
    owners = [row["id"] for row in found.values()]
    if not owners:
        owners = conn.execute(sa.select(users.c.id).where(users.c.is_admin == sa.true())).scalars().all()
    return owners


def _insert(conn, origin, record):
    text = bodytext.body_text(record.body, record.body_type)
    return conn.execute(messages.insert().values(
        uid=secrets.token_hex(16), origin_id=origin, sender_user_id=None,
        from_json=addresses.dumps(record.from_), to_json=addresses.dumps(record.to),
        cc_json=addresses.dumps(record.cc), bcc_json="[]",
        reply_to_json=addresses.dumps(record.reply_to), subject=record.subject[:998],
        date=record.date, message_id=record.message_id or origin, in_reply_to=record.in_reply_to,
        references=" ".join(record.references), body=record.body, body_type=record.body_type,
        snippet=bodytext.snippet(text), state=RECEIVED, state_reason="", state_at=record.date,
        envelope_json="[]", account_id=_account(record), received_at=int(time.time()))).inserted_primary_key[0]


def _account(record):
    """The external account the relay synced this mail from, if any."""
    account = record.extra.get("account")
    return account if isinstance(account, str) and 0 < len(account) <= 32 else None
