"""The box as admins see it: settings kept in the database, figures (its syncs: sync_usage)."""

import shutil
import time

import sqlalchemy as sa

from appliance.store import messages as states  # a module: messages' rules read the limit here
from appliance.store.tables import box_state, messages, user_messages, users

MAX_ATTACHMENTS_MB = "max_attachments_mb"
DEFAULTS = {MAX_ATTACHMENTS_MB: "10"}


def get(conn, key):
    value = conn.execute(sa.select(box_state.c.value).where(box_state.c.key == key)).scalar()
    return DEFAULTS.get(key) if value is None else value


def put(conn, key, value):
    now = int(time.time())
    updated = conn.execute(box_state.update().where(box_state.c.key == key)
                           .values(value=str(value), updated_at=now))
    if not updated.rowcount:
        conn.execute(box_state.insert().values(key=key, value=str(value), updated_at=now))


def max_attachment_bytes(conn):
    return int(get(conn, MAX_ATTACHMENTS_MB)) * 1024 * 1024


def figures(conn, data_dir):
    disk = shutil.disk_usage(data_dir)
    count = lambda table, *where: conn.execute(  # noqa: E731
        sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    return {
        "disk_free": disk.free, "disk_total": disk.total,
        "users": count(users), "messages": count(messages),
        "copies": count(user_messages), "queued": count(messages, messages.c.state == states.QUEUED),
    }
