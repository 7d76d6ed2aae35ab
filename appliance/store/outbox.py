"""What the sync job packs (queued mail) and what it reports back (upload, fate)."""

import time

import sqlalchemy as sa

from pouch.records import STATUS_FAILED, STATUS_SENT, Attachment, MessageRecord

from appliance.store import addresses, changes, safe_text
from appliance.store.messages import FAILED, QUEUED, SENT, UPLOADED
from appliance.store.tables import attachments, messages

FATES = {STATUS_SENT: SENT, STATUS_FAILED: FAILED}


def queued(conn, limit=None):
    """Queued mail as ``MessageRecord``s, oldest first.

    ``record.id`` is the box's message uid (status records come back with it);
    ``record.recipients`` holds the outside addresses the relay must deliver to —
    users of this box already have the message.  Attachment bytes are files of
    ``store.attachment_files`` named by each attachment's sha256.
    """
    query = (sa.select(messages).where(messages.c.state == QUEUED)
             .order_by(messages.c.date, messages.c.id).limit(limit))
    rows = conn.execute(query).mappings().all()
    files = _attachments(conn, [row["id"] for row in rows])
    return [as_record(row, files.get(row["id"], [])) for row in rows]


def mark_uploaded(conn, uids):
    """The relay has taken these messages: they leave the outbox for Sent."""
    _set_state(conn, uids, UPLOADED, "", [QUEUED])


def requeue(conn, uids):
    """The relay took these messages over but asks for them again (store.blob_refs): back in the outbox."""
    return _set_state(conn, uids, QUEUED, "", [UPLOADED])


def mark_failed(conn, uids, reason):
    """The relay refused these messages for good: they leave the outbox, failed, and say why."""
    return _set_state(conn, uids, FAILED, reason, [QUEUED])


def apply_status(conn, status):
    """A ``StatusRecord`` from the relay: the message was sent, or failed and why."""
    state = FATES.get(status.state)
    if state is None:
        return 0
    return _set_state(conn, [status.message_id], state, status.reason, [QUEUED, UPLOADED, SENT, FAILED],
                      at=status.at)


def _set_state(conn, uids, state, reason, from_states, at=None):
    ids = conn.execute(sa.select(messages.c.id, messages.c.sender_user_id).where(
        messages.c.uid.in_(list(uids)), messages.c.state.in_(from_states))).all()
    if not ids:
        return 0
    conn.execute(messages.update().where(messages.c.id.in_([row.id for row in ids])).values(
        state=state, state_reason=reason, state_at=at or int(time.time())))
    for row in ids:
        changes.record(conn, row.sender_user_id, changes.MESSAGE, row.id, changes.UPDATE)
    return len(ids)


def _attachments(conn, message_ids):
    found = {}
    if message_ids:
        query = sa.select(attachments).where(attachments.c.message_id.in_(message_ids))
        for row in conn.execute(query).mappings():
            found.setdefault(row["message_id"], []).append(row)
    return found


def as_record(row, files):
    return MessageRecord(
        id=row["uid"], from_=addresses.loads(row["from_json"]), to=addresses.loads(row["to_json"]),
        cc=addresses.loads(row["cc_json"]), bcc=addresses.loads(row["bcc_json"]),
        subject=row["subject"], date=row["date"], message_id=row["message_id"],
        in_reply_to=row["in_reply_to"], references=row["references"].split(),
        body=row["body"], body_type=row["body_type"],
        # A type as an older box kept it from a phone (a NUL in it) goes as its name says.
        attachments=[Attachment(name=f["name"], type=safe_text.uploaded_type(f["type"], f["name"]), size=f["size"],
                                sha256=bytes.fromhex(f["sha256"]), cid=f["cid"], inline=f["inline"])
                     for f in files],
        recipients=addresses.emails(addresses.loads(row["envelope_json"])),
        extra={"account": row["account_id"]} if row["account_id"] else {})  # sent by the account's SMTP
