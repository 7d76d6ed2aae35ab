"""Filtered, paged lists of one user's messages and threads, for the JSON API.

A :class:`Filter` holds what a client asked for; messages match on their own fields,
and on their thread's (``started_*``, ``last_message_*``); threads match when one of
their messages does."""

from dataclasses import dataclass

import sqlalchemy as sa

from appliance.store.mailbox import folder_filter  # the web client's folders
from appliance.store.tables import attachments, messages, threads, user_messages


@dataclass
class Filter:
    folder: str | None = None
    thread_id: int | None = None
    to: str | None = None
    from_: str | None = None
    cc: str | None = None
    bcc: str | None = None
    any_email: str | None = None
    subject: str | None = None
    unread: bool | None = None
    starred: bool | None = None
    filename: str | None = None
    received_before: int | None = None
    received_after: int | None = None
    started_before: int | None = None
    started_after: int | None = None
    last_message_before: int | None = None
    last_message_after: int | None = None
    message_id_header: str | None = None  # without its angle brackets
    oldest_first: bool = False
    drafts: bool = False  # drafts are their own resource, not messages


def _address_in(column, email):
    """The JSON list of ``[name, email]`` pairs holds ``email`` (any case)."""
    escaped = email.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(f'%"{escaped}"]%', escape="\\")


def _own_bcc_holds(user_id, email):
    """Bcc matches only in the sender's copy: the others may not learn it from a filter."""
    return sa.and_(messages.c.sender_user_id == user_id, _address_in(messages.c.bcc_json, email))


def _message_conditions(user_id, wanted):
    m, um = messages.c, user_messages.c
    found = [um.user_id == user_id, (um.folder == "drafts") if wanted.drafts else (um.folder != "drafts")]
    if wanted.folder:
        found += folder_filter(wanted.folder)
    if wanted.thread_id is not None:
        found.append(um.thread_id == wanted.thread_id)
    for column, email in ((m.to_json, wanted.to), (m.from_json, wanted.from_),
                          (m.cc_json, wanted.cc)):
        if email:
            found.append(_address_in(column, email))
    if wanted.bcc:
        found.append(_own_bcc_holds(user_id, wanted.bcc))
    if wanted.any_email:
        found.append(sa.or_(*(_address_in(column, wanted.any_email) for column in (
            m.to_json, m.from_json, m.cc_json)), _own_bcc_holds(user_id, wanted.any_email)))
    if wanted.subject is not None:
        found.append(m.subject == wanted.subject)
    if wanted.unread is not None:
        found.append(um.is_read == (not wanted.unread))
    if wanted.starred is not None:
        found.append(um.starred == wanted.starred)
    if wanted.filename is not None:
        found.append(sa.exists().where(attachments.c.message_id == m.id,
                                       attachments.c.name == wanted.filename))
    if wanted.message_id_header is not None:
        found.append(m.message_id == wanted.message_id_header)
    if wanted.received_before is not None:
        found.append(um.date < wanted.received_before)
    if wanted.received_after is not None:
        found.append(um.date > wanted.received_after)
    return found


def _started():
    """Each of the user's threads' first message date."""
    return (sa.select(sa.func.min(user_messages.c.date))
            .where(user_messages.c.thread_id == threads.c.id).scalar_subquery())


def _thread_conditions(user_id, wanted):
    t = threads.c
    found = [t.user_id == user_id]
    for value, condition in (
            (wanted.started_before, lambda v: _started() < v),
            (wanted.started_after, lambda v: _started() > v),
            (wanted.last_message_before, lambda v: t.last_date < v),
            (wanted.last_message_after, lambda v: t.last_date > v)):
        if value is not None:
            found.append(condition(value))
    return found


def _matching_messages(user_id, wanted, *columns):
    thread_ids = sa.select(threads.c.id).where(*_thread_conditions(user_id, wanted))
    return (sa.select(*columns).select_from(user_messages)
            .join(messages, messages.c.id == user_messages.c.message_id)
            .where(*_message_conditions(user_id, wanted), user_messages.c.thread_id.in_(thread_ids)))


def message_ids(conn, user_id, wanted, offset, limit):
    """Ids of matching messages, newest first (or oldest)."""
    order = _ordered(wanted, user_messages.c.date, messages.c.id)
    query = _matching_messages(user_id, wanted, messages.c.id).order_by(*order).offset(offset).limit(limit)
    return conn.execute(query).scalars().all()


def count_messages(conn, user_id, wanted):
    return _count(conn, _matching_messages(user_id, wanted, messages.c.id))


def _matching_threads(user_id, wanted, *columns):
    with_messages = _matching_messages(user_id, wanted, user_messages.c.thread_id)
    return sa.select(*columns).where(*_thread_conditions(user_id, wanted), threads.c.id.in_(with_messages))


def thread_ids(conn, user_id, wanted, offset, limit):
    """Ids of threads with a matching message, latest activity first (or last)."""
    order = _ordered(wanted, threads.c.last_date, threads.c.id)
    query = _matching_threads(user_id, wanted, threads.c.id).order_by(*order).offset(offset).limit(limit)
    return conn.execute(query).scalars().all()


def _ordered(wanted, *columns):
    return [column.asc() if wanted.oldest_first else column.desc() for column in columns]


def count_threads(conn, user_id, wanted):
    return _count(conn, _matching_threads(user_id, wanted, threads.c.id))


def _count(conn, query):
    return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


def messages_by_id(conn, user_id, ids):
    """The user's messages (with their view and thread) by id, in the order of ``ids``."""
    if not ids:
        return []
    query = (sa.select(messages, user_messages.c.folder, user_messages.c.is_read,
                       user_messages.c.starred, user_messages.c.thread_id,
                       user_messages.c.date.label("view_date"))
             .join(user_messages, user_messages.c.message_id == messages.c.id)
             .where(user_messages.c.user_id == user_id, messages.c.id.in_(list(ids))))
    found = {row["id"]: row for row in conn.execute(query).mappings()}
    return [found[i] for i in ids if i in found]


# A thread list shows no bodies: reading them made up most of its rows' bytes.
WITHOUT_BODY = [column for column in messages.c if column.name != "body"]


def thread_messages(conn, user_id, thread_ids_, with_body=True):
    """The user's messages and drafts of each thread, oldest first, as {thread_id: [rows]}."""
    found = {thread_id: [] for thread_id in thread_ids_}
    if not found:
        return found
    columns = messages.c if with_body else WITHOUT_BODY
    query = (sa.select(*columns, user_messages.c.folder, user_messages.c.is_read,
                       user_messages.c.starred, user_messages.c.thread_id,
                       user_messages.c.date.label("view_date"))
             .join(user_messages, user_messages.c.message_id == messages.c.id)
             .where(user_messages.c.user_id == user_id, user_messages.c.thread_id.in_(list(found)))
             .order_by(user_messages.c.date, messages.c.id))
    for row in conn.execute(query).mappings():
        found[row["thread_id"]].append(row)
    return found
