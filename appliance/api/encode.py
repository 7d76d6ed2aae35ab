"""Store rows as the sync-engine's JSON objects (its inbox/api/kellogs.py): string ids,
Unix-second timestamps, addresses as ``[{"name", "email"}]``, HTML bodies."""

import functools

from appliance.store import addresses
from appliance.store.messages import DRAFTS, INBOX, QUEUED, SENT_FOLDER, TRASH
from appliance.store.safe_text import safe_name
from pouch.mime import bodytext

FOLDER_NAMES = {INBOX: "Inbox", "outbox": "Outbox", SENT_FOLDER: "Sent", DRAFTS: "Drafts",
                TRASH: "Trash"}


# The same few address lists come back on every page (a user's own, their friends'): a
# thread list of 50 parsed each one four times, a third of its encoding time.
_pairs = functools.lru_cache(maxsize=4096)(lambda json_text: tuple(addresses.loads(json_text)))


def people(json_text):
    return [{"name": name, "email": email} for name, email in _pairs(json_text)]


def folder(user_id, name):
    return {"object": "folder", "id": name, "account_id": str(user_id), "name": name,
            "display_name": FOLDER_NAMES[name]}


def folder_of(row):
    """Queued mail sits in the outbox until the next sync takes it."""
    if row["folder"] == SENT_FOLDER and row["state"] == QUEUED:
        return "outbox"
    return row["folder"]


def account(user):
    return {"object": "account", "id": str(user["id"]), "account_id": str(user["id"]),
            "name": user["display_name"], "email_address": user["email"], "provider": "mailpouch",
            "organization_unit": "folder", "sync_state": "running"}


def file(user_id, row, prefix="a", message_ids=(), shown=None):
    """An attachment (id ``a<n>``) or an upload (id ``u<n>``); with ``shown``
    (store.placeholders.Shown) its ``state``, and a shrunk photo's ``original``."""
    encoded = {"object": "file", "id": f"{prefix}{row['id']}", "account_id": str(user_id),
               "filename": safe_name(row["name"]), "content_type": row["type"], "size": row["size"],
               "content_id": row.get("cid"), "message_ids": [str(i) for i in message_ids]}
    if shown is not None:
        encoded["state"] = shown.state
        if shown.original is not None:
            encoded["original"] = {"size": row["original_size"], "state": shown.original}
    return encoded


def body_html(row):
    if row["body_type"] == "html":
        return row["body"]
    return bodytext.lines_to_html(row["body"])


def bcc_of(user_id, row):
    """Bcc is the sender's alone: the copies of the users it went to do not show it."""
    return row["bcc_json"] if row["sender_user_id"] == user_id else "[]"


def message(user_id, row, files, draft_version=None, with_body=True, expanded=False):
    """A message row (``listing.messages_by_id``); a draft when ``draft_version`` is given."""
    where = folder(user_id, folder_of(row))
    encoded = {
        "object": "message" if draft_version is None else "draft",
        "id": str(row["id"]), "account_id": str(user_id), "thread_id": str(row["thread_id"]),
        "subject": row["subject"], "from": people(row["from_json"]), "to": people(row["to_json"]),
        "cc": people(row["cc_json"]), "bcc": people(bcc_of(user_id, row)),
        "reply_to": people(row["reply_to_json"]), "date": row["date"], "unread": not row["is_read"],
        "starred": bool(row["starred"]), "snippet": row["snippet"],
        "files": [file(user_id, f, message_ids=[row["id"]]) for f in files],
        "folder": where, "folders": [where], "events": [],
        "state": row["state"], "state_reason": row["state_reason"],
    }
    if with_body:
        encoded["body"] = body_html(row)
    if expanded:  # as the sync-engine's view=expanded: the threading headers
        encoded["headers"] = {"Message-Id": _bracketed(row["message_id"]),
                              "In-Reply-To": _bracketed(row["in_reply_to"]),
                              "References": " ".join(map(_bracketed, row["references"].split()))}
    if draft_version is not None:
        encoded["version"] = draft_version
        encoded["reply_to_message_id"] = None
        encoded["file_ids"] = [f["id"] for f in encoded["files"]]  # what a client sends back
    return encoded


def thread(user_id, thread_id, rows, expanded=()):
    """A thread from its messages and drafts, oldest first; ``expanded`` holds them
    already encoded, for ``view=expanded``."""
    mail = [row for row in rows if row["folder"] != DRAFTS]
    dates = [row["date"] for row in mail] or [row["date"] for row in rows]
    folders = list(dict.fromkeys(folder_of(row) for row in rows))
    encoded = {
        "object": "thread", "id": str(thread_id), "account_id": str(user_id),
        "subject": rows[0]["subject"], "participants": _participants(user_id, rows),
        "first_message_timestamp": min(dates), "last_message_timestamp": max(dates),
        "last_message_received_timestamp": _latest(mail, lambda r: r["folder"] != SENT_FOLDER),
        "last_message_sent_timestamp": _latest(mail, lambda r: r["folder"] == SENT_FOLDER),
        "snippet": (mail or rows)[-1]["snippet"], "unread": any(not r["is_read"] for r in mail),
        "starred": any(r["starred"] for r in mail),
        "has_attachments": False,  # filled in by the caller, which knows the files
        "message_ids": [str(r["id"]) for r in mail],
        "draft_ids": [str(r["id"]) for r in rows if r["folder"] == DRAFTS],
        "folders": [folder(user_id, name) for name in folders], "version": 0,
    }
    if expanded:
        encoded["messages"] = [m for m in expanded if m["object"] == "message"]
        encoded["drafts"] = [m for m in expanded if m["object"] == "draft"]
    return encoded


def _bracketed(message_id):
    return f"<{message_id}>" if message_id else None


def _latest(rows, keep):
    dates = [row["date"] for row in rows if keep(row)]
    return max(dates) if dates else None


def _participants(user_id, rows):
    seen = {}
    for row in rows:
        for people_json in (row["from_json"], row["to_json"], row["cc_json"], bcc_of(user_id, row)):
            for name, email in _pairs(people_json):
                seen.setdefault(email.lower(), {"name": name, "email": email})
    return list(seen.values())


def contact(user_id, row):
    """The sync-engine's ``name`` and ``email``, and the Nylas v2 shape its SDKs read."""
    given, surname = _split_name(row["name"])
    return {"object": "contact", "id": str(row["id"]), "account_id": str(user_id),
            "name": row["name"], "email": row["email"], "given_name": given, "surname": surname,
            "emails": [{"type": None, "email": row["email"]}], "phone_numbers": []}


def _split_name(name):
    """"Marie Curie" as given name and surname; a single word is a given name."""
    name = " ".join(name.split())
    if " " not in name:
        return name, ""
    given, _, surname = name.rpartition(" ")
    return given, surname
