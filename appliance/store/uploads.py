"""Files uploaded through the API, kept until a draft attaches them (Nylas: POST /files)."""

import time

import sqlalchemy as sa

from pouch.limits import MAX_MESSAGE_BYTES

from appliance.store.api_tables import api_uploads
from appliance.store.tables import attachments, user_messages

# Uploads stay on the card: a day's of one user's are bounded, so a client that uploads in a loop
# cannot fill it.  Ten of the largest messages a day is more than a person mails from a box.
DAY_BYTES = 10 * MAX_MESSAGE_BYTES
DAY_S = 24 * 3600


def day_bytes(conn, user_id):
    """What ``user_id`` uploaded in the last day, in bytes."""
    since = int(time.time()) - DAY_S
    return conn.execute(sa.select(sa.func.coalesce(sa.func.sum(api_uploads.c.size), 0)).where(
        api_uploads.c.user_id == user_id, api_uploads.c.created_at > since)).scalar_one()


def add(store, conn, user_id, name, type_, data):
    """Keep ``data`` for ``user_id``; returns the upload's row."""
    values = {"user_id": user_id, "name": name[:255] or "attachment",
              "type": type_[:127] or "application/octet-stream", "size": len(data),
              "sha256": store.attachment_files.put(data), "created_at": int(time.time())}
    upload_id = conn.execute(api_uploads.insert().values(**values)).inserted_primary_key[0]
    return {"id": upload_id, **values}


def get(conn, user_id, upload_id):
    return conn.execute(sa.select(api_uploads).where(
        api_uploads.c.id == upload_id, api_uploads.c.user_id == user_id)).mappings().first()


def page(conn, user_id, offset, limit, filename=None):
    query = sa.select(api_uploads).where(api_uploads.c.user_id == user_id)
    if filename is not None:
        query = query.where(api_uploads.c.name == filename)
    return conn.execute(query.order_by(api_uploads.c.id).offset(offset).limit(limit)).mappings().all()


def attachments_page(conn, user_id, offset, limit, filename=None):
    """Attachments of the user's messages, oldest first, each once, and how many there are."""
    query = (sa.select(attachments).where(attachments.c.message_id.in_(
        sa.select(user_messages.c.message_id).where(user_messages.c.user_id == user_id))))
    if filename is not None:
        query = query.where(attachments.c.name == filename)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(attachments.c.id).offset(offset).limit(limit)).mappings().all()
    return rows, total
