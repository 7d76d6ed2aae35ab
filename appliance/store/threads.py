"""Threads of one user's mail: by References / In-Reply-To, then by normalised subject where
a person would agree: a message of the thread shares a participant with this one (the user
aside) and is at most THREAD_GAP away in time.  Automatic mail (bounces, auto-replies)
never joins by subject: "Undelivered Mail Returned to Sender" says nothing of a thread."""

import re

import sqlalchemy as sa

from appliance.store import addresses, changes, other_addresses
from appliance.store.tables import messages, threads, user_messages, users

# Reply and forward prefixes in the languages of the box's users and of common mail clients.
PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|tr|aw|sv|wg|rv|enc|jibu|res)\s*(?:\[\d+\])?\s*:\s*)+",
                    re.IGNORECASE)


def subject_key(subject):
    """The subject without reply/forward prefixes, list tags or case: what stays the same in a thread."""
    subject = re.sub(r"^\s*\[[^\]]{1,40}\]\s*", "", subject or "")
    subject = PREFIX.sub("", subject)
    return " ".join(subject.lower().split())[:200]


THREAD_GAP = 30 * 24 * 3600  # the longest silence a thread by subject alone bridges
PEOPLE = ("from_json", "to_json", "cc_json")
CANDIDATES = 200  # nearest messages with the subject looked at; more means a newsletter

# Built once: every copy of every message looks for its thread.
BY_SUBJECT = (
    sa.select(user_messages.c.thread_id, messages.c.sender_user_id, messages.c.bcc_json,
              *(messages.c[name] for name in PEOPLE))
    .join(messages, messages.c.id == user_messages.c.message_id)
    .join(threads, threads.c.id == user_messages.c.thread_id)
    .where(user_messages.c.user_id == sa.bindparam("user_id"),
           threads.c.subject_key == sa.bindparam("key"),
           user_messages.c.message_id != sa.bindparam("message_id"),
           user_messages.c.date.between(sa.bindparam("earliest"), sa.bindparam("latest")))
    .order_by(sa.func.abs(user_messages.c.date - sa.bindparam("date")))
    .limit(CANDIDATES))
MESSAGE_PEOPLE = sa.select(messages.c.sender_user_id, messages.c.bcc_json,
                           *(messages.c[name] for name in PEOPLE)).where(
    messages.c.id == sa.bindparam("message_id"))
NEW_THREAD = threads.insert()
TOUCH = threads.update().where(threads.c.id == sa.bindparam("thread_id"),
                               threads.c.last_date < sa.bindparam("date")).values(
    last_date=sa.bindparam("date"))


def thread_for(conn, user_id, message_id, subject, date, reference_ids, automatic=False):
    """The id of the user's thread message ``message_id`` joins; a new thread when none fits."""
    thread_id = _by_references(conn, user_id, reference_ids)
    if thread_id is None and not automatic:
        thread_id = _by_subject(conn, user_id, message_id, subject, date)
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


def _by_subject(conn, user_id, message_id, subject, date):
    key = subject_key(subject)
    if not key:
        return None
    mine = _own_addresses(conn, user_id)
    people = _people(conn.execute(MESSAGE_PEOPLE, {"message_id": message_id}).mappings().first(),
                     user_id) - mine
    if not people:
        return None
    nearest = conn.execute(BY_SUBJECT, {
        "user_id": user_id, "key": key, "message_id": message_id, "date": date,
        "earliest": date - THREAD_GAP, "latest": date + THREAD_GAP}).mappings()
    for row in nearest:
        if people & _people(row, user_id):
            return row["thread_id"]
    return None


def _people(row, user_id):
    """Everyone a message names, lower case; its Bcc only in the sender's own copy."""
    if row is None:
        return set()
    columns = [*PEOPLE, "bcc_json"] if row["sender_user_id"] == user_id else PEOPLE
    return {email.lower() for column in columns for _name, email in addresses.loads(row[column])}


def _own_addresses(conn, user_id):
    """The user's box address and other addresses: every message of theirs names one."""
    email = conn.execute(sa.select(users.c.email).where(users.c.id == user_id)).scalar() or ""
    return {email.lower(), *(a.lower() for a in other_addresses.addresses_of(conn, user_id).values())}
