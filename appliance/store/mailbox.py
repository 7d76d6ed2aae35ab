"""Reading a user's mail and changing their view of it (read, starred, folder).

Every query here is scoped to one user: a message, thread or attachment id that is
not the user's gives None, exactly as one that does not exist."""

import sqlalchemy as sa

from appliance.store import changes, other_address_flags, reply_parents, search_index
from appliance.store.messages import (DRAFT, DRAFTS, INBOX, QUEUED, SENT_FOLDER, TRASH)
from appliance.store.tables import attachments, messages, threads, user_messages

FOLDERS = ("inbox", "outbox", "sent", "drafts", "starred", "trash")

SUMMARY_COLUMNS = (
    messages.c.id, messages.c.from_json, messages.c.to_json, messages.c.subject, messages.c.snippet,
    messages.c.state, messages.c.state_reason, messages.c.state_at, messages.c.uploaded_at,
    messages.c.sender_user_id, messages.c.account_id, user_messages.c.date,
    user_messages.c.is_read, user_messages.c.starred, user_messages.c.thread_id,
    user_messages.c.folder,
)


def folder_filter(folder):
    um, state = user_messages.c, messages.c.state
    return {
        "inbox": [um.folder == INBOX],
        "outbox": [um.folder == SENT_FOLDER, state == QUEUED],
        "sent": [um.folder == SENT_FOLDER, state != QUEUED],
        "drafts": [um.folder == DRAFTS],
        "starred": [um.starred == sa.true(), um.folder != TRASH],
        "trash": [um.folder == TRASH],
    }[folder]


def list_folder(conn, user_id, folder, offset=0, limit=25):
    """One page of a folder, newest first, and whether there is a next page.  The inbox goes
    by arrival on the box (old mail a sync brings lands on top, unread), showing the written date."""
    has_files = sa.exists().where(attachments.c.message_id == messages.c.id).label("has_files")
    order = [user_messages.c.id.desc()] if folder == "inbox" else [
        user_messages.c.date.desc(), user_messages.c.id.desc()]
    columns = [*SUMMARY_COLUMNS, has_files]
    if folder == "outbox":  # what each message's files will cost the modem
        columns.append(sa.select(sa.func.coalesce(sa.func.sum(attachments.c.size), 0))
                       .where(attachments.c.message_id == messages.c.id).scalar_subquery().label("files_size"))
    query = (sa.select(*columns)
             .join(messages, messages.c.id == user_messages.c.message_id)
             .where(user_messages.c.user_id == user_id, *folder_filter(folder))
             .order_by(*order)
             .offset(offset).limit(limit + 1))
    rows = conn.execute(query).mappings().all()
    return rows[:limit], len(rows) > limit


# Built once: these run on every page, for the numbers in the menu.
UNREAD = (sa.select(sa.func.count()).select_from(user_messages).where(
    user_messages.c.user_id == sa.bindparam("user_id"), user_messages.c.folder == INBOX,
    user_messages.c.is_read == sa.false()))
WAITING = (sa.select(sa.func.count()).select_from(messages).where(
    messages.c.state == QUEUED, messages.c.sender_user_id == sa.bindparam("user_id")))


def counts(conn, user_id):
    """Unread messages in the inbox and the user's messages waiting for the next sync."""
    return {"unread": conn.execute(UNREAD, {"user_id": user_id}).scalar_one(),
            "outbox": conn.execute(WAITING, {"user_id": user_id}).scalar_one()}


def message(conn, user_id, message_id):
    """The full message with the user's view of it, or None."""
    query = (sa.select(messages, user_messages.c.folder, user_messages.c.is_read,
                       user_messages.c.starred, user_messages.c.thread_id)
             .join(user_messages, user_messages.c.message_id == messages.c.id)
             .where(messages.c.id == message_id, user_messages.c.user_id == user_id))
    return conn.execute(query).mappings().first()


def thread(conn, user_id, thread_id):
    """The thread's subject key and its messages oldest first (trash left out unless all
    of it is in the trash), or None."""
    head = conn.execute(sa.select(threads).where(
        threads.c.id == thread_id, threads.c.user_id == user_id)).mappings().first()
    if head is None:
        return None
    query = (sa.select(messages, user_messages.c.folder, user_messages.c.is_read,
                       user_messages.c.starred)
             .join(user_messages, user_messages.c.message_id == messages.c.id)
             .where(user_messages.c.thread_id == thread_id, user_messages.c.user_id == user_id)
             .order_by(user_messages.c.date, messages.c.id))
    rows = conn.execute(query).mappings().all()
    shown = [row for row in rows if row["folder"] != TRASH] or rows
    return head, shown


def attachments_of(conn, message_ids):
    """Attachments of messages the caller has already checked the user may see, by message id."""
    found = {}
    if not message_ids:
        return found
    query = (sa.select(attachments).where(attachments.c.message_id.in_(message_ids))
             .order_by(attachments.c.id))
    for row in conn.execute(query).mappings():
        found.setdefault(row["message_id"], []).append(row)
    return found


def attachment(conn, user_id, attachment_id):
    query = (sa.select(attachments)
             .join(user_messages, user_messages.c.message_id == attachments.c.message_id)
             .where(attachments.c.id == attachment_id, user_messages.c.user_id == user_id))
    return conn.execute(query).mappings().first()


def attachment_by_cid(conn, user_id, message_id, cid):
    query = (sa.select(attachments)
             .join(user_messages, user_messages.c.message_id == attachments.c.message_id)
             .where(attachments.c.message_id == message_id, attachments.c.cid == cid,
                    user_messages.c.user_id == user_id))
    return conn.execute(query).mappings().first()


def set_flags(conn, user_id, message_ids, tell_server=True, **flags):
    """Set ``is_read`` and/or ``starred`` on the user's copies; returns how many changed.
    ``tell_server``: False when the change comes from an external account's server."""
    owned = conn.execute(sa.select(user_messages.c.message_id).where(
        user_messages.c.user_id == user_id, user_messages.c.message_id.in_(message_ids))).scalars().all()
    if owned:
        if "is_read" in flags and tell_server:  # mail from an external account: its server learns at the next sync
            other_address_flags.note(conn, user_id, owned, flags["is_read"])
        conn.execute(user_messages.update().where(
            user_messages.c.user_id == user_id, user_messages.c.message_id.in_(owned)).values(**flags))
        _log_updates(conn, user_id, owned)
    return len(owned)


def mark_thread_read(conn, user_id, thread_id):
    unread = conn.execute(sa.select(user_messages.c.message_id).where(
        user_messages.c.user_id == user_id, user_messages.c.thread_id == thread_id,
        user_messages.c.is_read == sa.false())).scalars().all()
    if unread:
        set_flags(conn, user_id, unread, is_read=True)


def to_trash(conn, user_id, message_id):
    return _move(conn, user_id, message_id, TRASH)


def restore(conn, user_id, message_id):
    """Out of the trash, back to where such a message lives."""
    row = message(conn, user_id, message_id)
    if row is None:
        return 0
    if row["state"] == DRAFT:
        return _move(conn, user_id, message_id, DRAFTS)
    return _move(conn, user_id, message_id, SENT_FOLDER if row["sender_user_id"] == user_id else INBOX)


def delete_forever(conn, user_id, message_id):
    """Remove the user's copy; the message itself goes when nobody has it any more."""
    result = conn.execute(user_messages.delete().where(
        user_messages.c.user_id == user_id, user_messages.c.message_id == message_id,
        user_messages.c.folder == TRASH))
    if not result.rowcount:
        return 0
    changes.record(conn, user_id, changes.MESSAGE, message_id, changes.DELETE)
    left = conn.execute(sa.select(sa.func.count()).select_from(user_messages).where(
        user_messages.c.message_id == message_id)).scalar_one()
    if left:
        search_index.refresh_owners(conn, message_id)
    else:
        reply_parents.keep_deleted(conn, message_id)  # a reply packed against it may still come
        conn.execute(attachments.delete().where(attachments.c.message_id == message_id))
        conn.execute(messages.delete().where(messages.c.id == message_id))
        search_index.remove(conn, message_id)
    return 1


def _move(conn, user_id, message_id, folder):
    result = conn.execute(user_messages.update().where(
        user_messages.c.user_id == user_id, user_messages.c.message_id == message_id)
        .values(folder=folder))
    if result.rowcount:
        _log_updates(conn, user_id, [message_id])
    return result.rowcount


def _log_updates(conn, user_id, message_ids):
    for message_id in message_ids:
        changes.record(conn, user_id, changes.MESSAGE, message_id, changes.UPDATE)
