"""Draft versions and deleting drafts, for API clients that edit drafts concurrently.

A draft's version is how many times it was saved after its creation: the change log
already counts that, so no column is needed."""

import sqlalchemy as sa

from appliance.store import changes, search_index
from appliance.store.messages import DRAFT, DRAFTS
from appliance.store.tables import attachments, changes as change_log, messages, user_messages


def version(conn, user_id, message_id):
    query = sa.select(sa.func.count()).select_from(change_log).where(
        change_log.c.user_id == user_id, change_log.c.kind == changes.DRAFT,
        change_log.c.object_id == message_id,
        change_log.c.op.in_([changes.INSERT, changes.UPDATE]))
    return max(0, conn.execute(query).scalar_one() - 1)


def delete(conn, user_id, message_id):
    """Delete the user's draft; returns whether there was one."""
    owned = conn.execute(sa.select(messages.c.id).join(
        user_messages, user_messages.c.message_id == messages.c.id).where(
        messages.c.id == message_id, messages.c.sender_user_id == user_id,
        messages.c.state == DRAFT, user_messages.c.folder == DRAFTS)).first()
    if owned is None:
        return False
    conn.execute(user_messages.delete().where(user_messages.c.message_id == message_id))
    conn.execute(attachments.delete().where(attachments.c.message_id == message_id))
    conn.execute(messages.delete().where(messages.c.id == message_id))
    search_index.remove(conn, message_id)
    changes.record(conn, user_id, changes.DRAFT, message_id, changes.DELETE)
    return True
