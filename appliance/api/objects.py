"""Loading the user's objects by id and encoding them, for lists, single objects and delta."""

import sqlalchemy as sa

from appliance.api import encode
from appliance.store import drafts, listing, mailbox
from appliance.store.messages import DRAFTS
from appliance.store.tables import contacts


def messages(conn, user_id, ids, with_body=True, expanded=False):
    """Messages and drafts by id, in order; ids the user does not have are left out."""
    rows = listing.messages_by_id(conn, user_id, ids)
    files = mailbox.attachments_of(conn, [row["id"] for row in rows])
    return [_message(conn, user_id, row, files.get(row["id"], []), with_body, expanded)
            for row in rows]


def _message(conn, user_id, row, files, with_body, expanded=False):
    version = drafts.version(conn, user_id, row["id"]) if row["folder"] == DRAFTS else None
    return encode.message(user_id, row, files, version, with_body, expanded)


def message(conn, user_id, message_id, draft, expanded=False):
    """One message (``draft`` False) or draft (True), or None."""
    found = messages(conn, user_id, [message_id], expanded=expanded)
    if not found or (found[0]["object"] == "draft") != draft:
        return None
    return found[0]


def threads(conn, user_id, ids, expanded=False):
    by_thread = listing.thread_messages(conn, user_id, ids, with_body=False)
    all_ids = [row["id"] for rows in by_thread.values() for row in rows]
    files = mailbox.attachments_of(conn, all_ids)
    found = []
    for thread_id in ids:
        rows = by_thread.get(thread_id)
        if not rows:
            continue
        shown = [_message(conn, user_id, row, files.get(row["id"], []), False)
                 for row in rows] if expanded else ()
        encoded = encode.thread(user_id, thread_id, rows, shown)
        encoded["has_attachments"] = any(row["id"] in files for row in rows)
        found.append(encoded)
    return found


def contacts_page(conn, user_id, offset, limit, email=None):
    query = sa.select(contacts).where(contacts.c.user_id == user_id)
    if email is not None:
        query = query.where(contacts.c.email == email.strip().lower())
    query = query.order_by(contacts.c.times.desc(), contacts.c.id).offset(offset).limit(limit)
    return [encode.contact(user_id, row) for row in conn.execute(query).mappings()]


def contact(conn, user_id, contact_id):
    row = conn.execute(sa.select(contacts).where(
        contacts.c.id == contact_id, contacts.c.user_id == user_id)).mappings().first()
    return None if row is None else encode.contact(user_id, row)
