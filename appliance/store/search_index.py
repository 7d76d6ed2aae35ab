"""Writing the full-text index (FTS5 table ``message_search``); reading is in search.py."""

import sqlalchemy as sa

from appliance.store.tables import user_messages


def owner_token(user_id):
    return f"u{user_id}"


def index_message(conn, message_id, subject, addresses, body_text, owner_ids):
    conn.execute(sa.text("DELETE FROM message_search WHERE rowid = :id"), {"id": message_id})
    conn.execute(
        sa.text("INSERT INTO message_search (rowid, subject, addresses, body, owners) "
                "VALUES (:id, :subject, :addresses, :body, :owners)"),
        {"id": message_id, "subject": subject, "addresses": addresses, "body": body_text,
         "owners": " ".join(owner_token(owner) for owner in owner_ids)})


def refresh_owners(conn, message_id):
    """Re-read who has the message, after a user's copy is added or removed."""
    owners = conn.execute(sa.select(user_messages.c.user_id)
                          .where(user_messages.c.message_id == message_id)).scalars().all()
    conn.execute(sa.text("UPDATE message_search SET owners = :owners WHERE rowid = :id"),
                 {"id": message_id, "owners": " ".join(owner_token(o) for o in owners)})


def remove(conn, message_id):
    conn.execute(sa.text("DELETE FROM message_search WHERE rowid = :id"), {"id": message_id})
