"""Writing mail: drafts, sending (local delivery at once, the rest queued for the relay)
and each user's view of a message.  A message is stored once; every user who has it
has a row in ``user_messages`` with its folder, read and starred state."""

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from email.utils import make_msgid

import sqlalchemy as sa

from appliance.store import addresses, changes, contacts, rules, safe_text, search_index, threads, users
from appliance.store.errors import N_, StoreError
from appliance.store.tables import attachments, messages, user_messages
from pouch.mime import bodytext

# Message states.  Outbox = the sender's copies still QUEUED; the relay's reports move
# UPLOADED mail on to SENT or FAILED.
DRAFT, DELIVERED, QUEUED, UPLOADED, SENT, FAILED, RECEIVED = (
    "draft", "delivered", "queued", "uploaded", "sent", "failed", "received")
INBOX, SENT_FOLDER, DRAFTS, TRASH = "inbox", "sent", "drafts", "trash"
FORM_TOKEN = re.compile(r"[0-9a-f]{32}\Z")  # what a compose form carries: see form_uid


@dataclass
class NewFile:
    name: str
    type: str
    data: bytes

    @classmethod
    def uploaded(cls, name, claimed_type, data):
        """A file as a phone or an app sent it: its name a base name, its type one that is."""
        name = safe_text.safe_name(name)
        return cls(name, safe_text.uploaded_type(claimed_type, name), data)


@dataclass
class Draft:
    """What a person wrote, as the compose form gives it."""

    to: list = field(default_factory=list)
    cc: list = field(default_factory=list)
    bcc: list = field(default_factory=list)
    subject: str = ""
    body: str = ""
    body_type: str = "text"
    in_reply_to: str | None = None
    references: list = field(default_factory=list)
    new_files: list = field(default_factory=list)
    kept_attachments: list = field(default_factory=list)  # ids of attachments the user can see
    account_id: str | None = None  # send from this external account instead of the box address
    from_address: str | None = None  # or from this address (the API's "from"), if it is the user's
    form_token: str | None = None  # the compose form's one-time token: one form makes one message

    def recipients(self):
        return self.to + self.cc + self.bcc


INSERT_VIEW = user_messages.insert()
INSERT_ATTACHMENT = attachments.insert()


def form_uid(user_id, token):
    """The uid of the message a compose form makes, or None without a well-formed token.
    Derived per user, so no token can name someone else's message."""
    if not token or not FORM_TOKEN.match(token):
        return None
    return hashlib.sha256(f"{user_id}:{token}".encode()).hexdigest()[:32]


def made_by_form(conn, user, token):
    """(id, state) of the message this form made already, or None."""
    uid = form_uid(user["id"], token)
    if uid is None:
        return None
    return conn.execute(sa.select(messages.c.id, messages.c.state).where(
        messages.c.uid == uid, messages.c.sender_user_id == user["id"])).first()


def save_draft(store, conn, user, draft, draft_id=None):
    """Create or update the user's draft; returns its message id."""
    made = made_by_form(conn, user, draft.form_token)
    if made is not None:
        if made.state != DRAFT:
            raise StoreError(N_("This message was sent already."))
        draft_id = made.id
    if draft_id is not None:
        _check_own_draft(conn, user, draft_id)
    checked = rules.check(conn, user, draft)
    draft = checked.draft
    message_id = _write(store, conn, user, checked, DRAFT, draft_id, envelope=[],
                        uid=form_uid(user["id"], draft.form_token))
    if draft_id is None:
        add_view(conn, user["id"], message_id, DRAFTS, draft.subject, int(time.time()),
                 _thread_refs(draft), is_read=True)
    else:
        changes.record(conn, user["id"], changes.DRAFT, message_id, changes.UPDATE)
    _index(conn, message_id, user["id"], checked, [user["id"]])
    return message_id


def send(store, conn, user, draft, draft_id=None):
    """Deliver to users of the box now, queue the rest for the relay; returns the message id.
    Users of the box in Bcc get their copy; only the sender's copy shows its Bcc.
    A form sent again (a second click, Back then Send) gives the message it made the first time."""
    made = made_by_form(conn, user, draft.form_token)
    if made is not None:
        if made.state != DRAFT:
            return made.id
        draft_id = made.id
    if draft_id is not None:
        _check_own_draft(conn, user, draft_id)
    checked = rules.check(conn, user, draft)
    rules.check_arrived(store, checked.kept)
    draft = checked.draft
    emails = list(dict.fromkeys(addresses.emails(draft.recipients())))
    if not emails:
        raise StoreError(N_("Add at least one recipient."))
    local_users = _local_users(store, conn, emails)
    outside = [email for email in emails if addresses.domain_of(email) != store.domain]
    state = QUEUED if outside else DELIVERED
    message_id = _write(store, conn, user, checked, state, draft_id, envelope=outside,
                        uid=form_uid(user["id"], draft.form_token))
    now = int(time.time())
    if draft_id is None:
        add_view(conn, user["id"], message_id, SENT_FOLDER, draft.subject, now,
                 _thread_refs(draft), is_read=True)
    else:
        _file_draft_as_sent(conn, user["id"], message_id, now)
    for recipient in local_users.values():
        if recipient["id"] != user["id"]:
            add_view(conn, recipient["id"], message_id, INBOX, draft.subject, now, _thread_refs(draft))
            contacts.learn(conn, recipient["id"], [(user["display_name"], user["email"])])
    contacts.learn(conn, user["id"], draft.recipients())
    _index(conn, message_id, user["id"], checked, [user["id"], *(r["id"] for r in local_users.values())])
    return message_id


def add_view(conn, user_id, message_id, folder, subject, date, reference_ids, is_read=False,
             automatic=False):
    """Give ``user_id`` a copy of the message in ``folder``, in the thread it belongs to;
    ``automatic`` mail (bounces, auto-replies) joins a thread only by its references."""
    thread_id = threads.thread_for(conn, user_id, message_id, subject, date, reference_ids, automatic)
    conn.execute(INSERT_VIEW, {"user_id": user_id, "message_id": message_id, "thread_id": thread_id,
                               "folder": folder, "is_read": is_read, "starred": False, "date": date})
    kind = changes.DRAFT if folder == DRAFTS else changes.MESSAGE
    changes.record(conn, user_id, kind, message_id, changes.INSERT)


def insert_attachment(conn, message_id, name, type_, size, sha256_hex, cid=None, inline=False):
    conn.execute(INSERT_ATTACHMENT, {
        "message_id": message_id, "name": name[:255] or "attachment",
        "type": type_[:127] or "application/octet-stream", "size": size, "sha256": sha256_hex,
        "cid": cid, "inline": inline})


def _thread_refs(draft):
    return [*draft.references, draft.in_reply_to]


def _local_users(store, conn, emails):
    local = [email for email in emails if addresses.domain_of(email) == store.domain]
    found = users.find_many(conn, local)
    for email in local:
        if email not in found:
            raise StoreError(N_("No one on this box has the address %(address)s."), address=email)
    return found


def _check_own_draft(conn, user, draft_id):
    query = sa.select(messages.c.id).where(
        messages.c.id == draft_id, messages.c.sender_user_id == user["id"], messages.c.state == DRAFT)
    if conn.execute(query).first() is None:
        raise StoreError(N_("This draft no longer exists; it may have been sent already."))


def _write(store, conn, user, checked, state, draft_id, envelope, uid=None):
    draft = checked.draft
    text = bodytext.body_text(draft.body, draft.body_type)
    values = dict(
        from_json=addresses.dumps([checked.sender]), account_id=draft.account_id,
        to_json=addresses.dumps(draft.to), cc_json=addresses.dumps(draft.cc),
        bcc_json=addresses.dumps(draft.bcc), subject=draft.subject[:998], date=int(time.time()),
        body=draft.body, body_type=draft.body_type, snippet=bodytext.snippet(text), state=state,
        state_at=int(time.time()), envelope_json=addresses.dumps([("", e) for e in envelope]))
    if draft_id is None:
        draft_id = conn.execute(messages.insert().values(
            uid=uid or secrets.token_hex(16), sender_user_id=user["id"], reply_to_json="[]",
            message_id=make_msgid(domain=store.domain).strip("<>"),
            in_reply_to=draft.in_reply_to, references=" ".join(draft.references),
            **values)).inserted_primary_key[0]
    else:
        conn.execute(messages.update().where(messages.c.id == draft_id).values(**values))
        conn.execute(attachments.delete().where(attachments.c.message_id == draft_id))
    for row in checked.kept:
        insert_attachment(conn, draft_id, row["name"], row["type"], row["size"], row["sha256"])
    for new in draft.new_files:
        insert_attachment(conn, draft_id, new.name, new.type, len(new.data), store.attachment_files.put(new.data))
    return draft_id


def _file_draft_as_sent(conn, user_id, message_id, now):
    conn.execute(user_messages.update().where(
        user_messages.c.user_id == user_id, user_messages.c.message_id == message_id)
        .values(folder=SENT_FOLDER, date=now))
    changes.record(conn, user_id, changes.DRAFT, message_id, changes.DELETE)
    changes.record(conn, user_id, changes.MESSAGE, message_id, changes.INSERT)


def _index(conn, message_id, sender_id, checked, owner_ids):
    """Bcc is searchable only while the sender alone has the message: the index row is
    shared by everyone who has it."""
    draft, owner_ids = checked.draft, set(owner_ids)
    shown = draft.to + draft.cc + (draft.bcc if owner_ids == {sender_id} else [])
    everyone = addresses.format_list([checked.sender, *shown])
    search_index.index_message(conn, message_id, draft.subject, everyone,
                               bodytext.body_text(draft.body, draft.body_type), owner_ids)
