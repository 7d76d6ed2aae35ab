"""Threads of one user's mail: by References / In-Reply-To, then by normalised subject."""

import re

import sqlalchemy as sa

from appliance.store import changes
from appliance.store.tables import messages, threads, user_messages

# Reply and forward prefixes in the languages of the box's users and of common mail clients.
PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|tr|aw|sv|wg|rv|enc|jibu|res)\s*(?:\[\d+\])?\s*:\s*)+",
                    re.IGNORECASE)


def subject_key(subject):
    """The subject without reply/forward prefixes, list tags or case: what stays the same in a thread."""
    subject = re.sub(r"^\s*\[[^\]]{1,40}\]\s*", "", subject or "")
    subject = PREFIX.sub("", subject)
    return " ".join(subject.lower().split())[:200]


# Built once: every copy of every message looks for its thread.
BY_SUBJECT = (sa.select(threads.c.id).where(threads.c.user_id == sa.bindparam("user_id"),
                                            threads.c.subject_key == sa.bindparam("key"))
              .order_by(threads.c.last_date.desc()).limit(1))
NEW_THREAD = threads.insert()
TOUCH = threads.update().where(threads.c.id == sa.bindparam("thread_id"),
                               threads.c.last_date < sa.bindparam("date")).values(
    last_date=sa.bindparam("date"))


def thread_for(conn, user_id, subject, date, reference_ids):
    """The id of the user's thread a message joins; a new thread when none fits."""
    thread_id = _by_references(conn, user_id, reference_ids) or _by_subject(conn, user_id, subject)
    if thread_id is None:
        result = conn.execute(NEW_THREAD, {"user_id": user_id, "subject_key": subject_key(subject),
                                           "last_date": date})
        thread_id = result.inserted_primary_key[0]
        changes.record(conn, user_id, changes.THREAD, thread_id, changes.INSERT)
        return thread_id
    conn.execute(TOUCH, {"thread_id": thread_id, "date": date})
    changes.record(conn, user_id, changes.THREAD, thread_id, changes.UPDATE)
    return thread_id


def _by_references(conn, user_id, reference_ids):
    reference_ids = [ref for ref in reference_ids if ref]
    if not reference_ids:
        return None
    query = (sa.select(user_messages.c.thread_id)
             .join(messages, messages.c.id == user_messages.c.message_id)
             .where(user_messages.c.user_id == user_id, messages.c.message_id.in_(reference_ids))
             .order_by(user_messages.c.date.desc()).limit(1))
    return conn.execute(query).scalar()


def _by_subject(conn, user_id, subject):
    key = subject_key(subject)
    if not key:
        return None
    return conn.execute(BY_SUBJECT, {"user_id": user_id, "key": key}).scalar()
