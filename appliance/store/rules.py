"""The rules every message written on the box obeys, whichever door it came in by (the web
client's compose page or the JSON API): its sender is one of the user's own addresses, its
HTML is cleaned, its size and recipients stay within the limits.  ``messages.save_draft``
and ``messages.send`` apply them, so no front door can skip one."""

from dataclasses import dataclass, replace

import sqlalchemy as sa

from pouch.html import MarkupTooDeep, reduce_html
from pouch.limits import MAX_MESSAGE_BYTES, MAX_RECIPIENTS

from appliance.store import boxinfo, other_addresses
from appliance.store.errors import N_, StoreError, size_text
from appliance.store.tables import attachments, user_messages


@dataclass
class Checked:
    """A draft that obeys the rules, with what checking it found."""

    draft: object  # messages.Draft, its body cleaned and its sending account resolved
    sender: tuple  # (display name, address)
    kept: list  # rows of the attachments it keeps from the user's mail


def check(conn, user, draft):
    """``Checked`` for ``draft`` written by ``user``; StoreError says what breaks a rule."""
    _check_text(draft)
    draft = replace(draft, body=_clean(draft.body, draft.body_type))
    draft, sender = _sender(conn, user, draft)
    _check_recipients(draft)
    kept = visible_attachments(conn, user["id"], draft.kept_attachments)
    _check_size(conn, draft, kept)
    return Checked(draft, sender, kept)


def check_arrived(store, kept):
    """A kept attachment whose bytes are still on their way (big mail's follow at a later
    sync) cannot leave yet: the relay could not build the mail."""
    for row in kept:
        if not store.attachment_files.has(row["sha256"]):
            raise StoreError(N_("%(name)s has not arrived yet: send after the next sync, or remove it."),
                             name=row["name"])


def visible_attachments(conn, user_id, attachment_ids):
    """Attachments among ``attachment_ids`` of mail the user has; others are left out."""
    if not attachment_ids:
        return []
    query = (sa.select(attachments).join(user_messages,
                                         user_messages.c.message_id == attachments.c.message_id)
             .where(attachments.c.id.in_(attachment_ids), user_messages.c.user_id == user_id))
    return conn.execute(query).mappings().all()


def _check_text(draft):
    """Text is Unicode that UTF-8 can hold: JSON may carry lone surrogates, which cannot be
    stored, indexed or sent."""
    people = [part for pair in draft.recipients() for part in pair]
    try:
        "".join([draft.subject, draft.body, draft.from_address or "", *people]).encode()
    except UnicodeEncodeError:
        raise StoreError(N_("The message holds a character that is not text (a lone surrogate): "
                            "remove it and try again.")) from None


def _clean(body, body_type):
    """HTML as the box shows it: the one allowlist of pouch.html, for input and display."""
    if body_type != "html":
        return body
    try:
        return reduce_html(body)
    except MarkupTooDeep:
        raise StoreError(N_("The text is nested too deeply to be kept as formatted text.")) from None


def _sender(conn, user, draft):
    """The user sends only as their box address or one of their other addresses."""
    if draft.account_id:
        return draft, other_addresses.sender(conn, user["id"], draft.account_id)
    wanted = (draft.from_address or user["email"]).strip().lower()
    if wanted == user["email"].lower():
        return replace(draft, from_address=None), (user["display_name"], user["email"])
    for account in other_addresses.list_for(conn, user["id"]):
        if account["address"].lower() == wanted:
            chosen = replace(draft, account_id=account["id"], from_address=None)
            return chosen, other_addresses.sender(conn, user["id"], account["id"])
    raise StoreError(N_("%(address)s is not one of your addresses: you can send from your box "
                        "address and those in Settings, Your other addresses."), address=wanted[:254])


def _check_recipients(draft):
    count = len(draft.recipients())
    if count > MAX_RECIPIENTS:
        raise StoreError(N_("A message can go to at most %(limit)s recipients; this one has "
                            "%(count)s. Send it to a mailing list, or in parts."),
                         limit=f"{MAX_RECIPIENTS:,}", count=f"{count:,}")


def check_files_size(files, limit):
    """Attachments of ``files`` bytes in all within ``limit``; a front door may ask before it
    reads what was uploaded."""
    if files > limit:
        raise StoreError(N_("The attachments are too big together (%(size)s); the limit is "
                            "%(limit)s. Your text is kept: choose smaller files."),
                         size=size_text(files), limit=size_text(limit))


def _check_size(conn, draft, kept):
    """Attachments kept from other mail count as much as new ones: forwarding cannot
    carry more than uploading could."""
    files = sum(len(new.data) for new in draft.new_files) + sum(row["size"] for row in kept)
    check_files_size(files, boxinfo.max_attachment_bytes(conn))
    whole = files + len(draft.body.encode()) + len(draft.subject.encode())
    if whole > MAX_MESSAGE_BYTES:
        raise StoreError(N_("The message is too big (%(size)s); at most %(limit)s can be sent."),
                         size=size_text(whole), limit=size_text(MAX_MESSAGE_BYTES))
