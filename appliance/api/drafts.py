"""Drafts with versions (a stale version gets 409, as in the sync-engine) and sending:
a saved draft, a draft given inline, or raw MIME.  Sent mail goes the web client's way:
delivered at once on the box, queued for the next sync otherwise."""

import re

from appliance.api import filters, objects, params, readonly
from appliance.api.base import ApiHandler
from appliance.api.errors import APIError, bad_request, not_found, refused_as_bad_request
from appliance.api.mail import RAW_MIME, MessageListHandler
from appliance.store import addresses, drafts, mailbox, uploads
from appliance.store.errors import N_, StoreError
from appliance.store.messages import Draft, NewFile, save_draft, send
from appliance.store.safe_text import safe_name
from pouch.mime import MimeError, parse

FIELDS = {"subject", "body", "to", "cc", "bcc", "from", "file_ids", "reply_to_message_id", "version",
          "draft_id"}
DERIVED = (*readonly.DERIVED, *readonly.FLAGS, "folder")  # a draft stays in drafts, its flags its own
LINE_BREAKS = re.compile(r"[\r\n]+")


class DraftListHandler(MessageListHandler):
    PARAMS = {"GET": filters.NAMES, "POST": ()}
    DRAFTS = True

    def post(self):
        body = readonly.dropped(self.json_body(), self.user_id, ("draft",), derived=DERIVED)
        with self.store.write() as conn, refused_as_bad_request():
            draft_id = save_draft(self.store, conn, self.current_user, draft_from(conn, self, body))
        self.reply(objects.message(self.db, self.user_id, draft_id, draft=True))


class DraftHandler(ApiHandler):
    PARAMS = {"GET": (), "PUT": (), "DELETE": ("version",)}

    def get(self, draft_id):
        self.reply(self._draft(params.object_id("draft id", draft_id)))

    def _draft(self, draft_id, conn=None):
        found = objects.message(conn or self.db, self.user_id, draft_id, draft=True)
        if found is None:
            raise not_found("draft", draft_id)
        return found

    def put(self, draft_id):
        draft_id = params.object_id("draft id", draft_id)
        body = self.json_body()
        with self.store.write() as conn, refused_as_bad_request():
            current = self._draft(draft_id, conn)
            body = readonly.dropped(body, self.user_id, ("draft",), draft_id, current, DERIVED)
            check_version(current, body.get("version"))
            merged = {**as_fields(current), **{k: v for k, v in body.items() if v is not None}}
            save_draft(self.store, conn, self.current_user, draft_from(conn, self, merged), draft_id)
        self.reply(self._draft(draft_id))

    def delete(self, draft_id):
        draft_id = params.object_id("draft id", draft_id)
        version = self.json_body().get("version") if self.request.body else None
        if "version" in self.args:
            version = params.integer("version", self.args["version"])
        with self.store.write() as conn:
            check_version(self._draft(draft_id, conn), version)
            drafts.delete(conn, self.user_id, draft_id)
        self.reply({"id": str(draft_id), "object": "draft", "deleted": True})


class SendHandler(ApiHandler):
    UPLOADS = True
    PARAMS = {"POST": ()}

    def post(self):
        with self.store.write() as conn, refused_as_bad_request():
            if self.request.headers.get("Content-Type", "").lower().startswith(RAW_MIME):
                message_id = send(self.store, conn, self.current_user, self._from_mime(conn))
            else:
                body = readonly.dropped(self.json_body(), self.user_id, ("draft", "message"),
                                        derived=DERIVED)
                message_id = self._from_json(conn, body)
        self.reply(objects.message(self.db, self.user_id, message_id, draft=False))

    def _from_json(self, conn, body):
        if "draft_id" not in body:
            return send(self.store, conn, self.current_user, draft_from(conn, self, body, strict=True))
        draft_id = _id_field("draft_id", body["draft_id"])
        current = objects.message(conn, self.user_id, draft_id, draft=True)
        if current is None:
            raise not_found("draft", draft_id)
        check_version(current, body.get("version"))
        saved = draft_from(conn, self, as_fields(current), strict=True)
        return send(self.store, conn, self.current_user, saved, draft_id)

    def _from_mime(self, conn):
        try:
            parsed = parse(self.request.body, "api-send")
        except MimeError as error:
            raise bad_request(f"The message is not usable MIME: {error}") from None
        record = parsed.record
        files = [NewFile(safe_name(a.name), a.type, parsed.blobs[a.sha256]) for a in record.attachments]
        if len(record.from_) > 1:
            raise bad_request("From must name one sender")
        draft = Draft(to=record.to, cc=record.cc, bcc=record.bcc, subject=record.subject,
                      body=record.body, body_type=record.body_type, in_reply_to=record.in_reply_to,
                      references=record.references, new_files=files,
                      from_address=record.from_[0][1] if record.from_ else None)
        _check_sendable(draft)
        return draft


def check_version(current, version):
    """409 when the client edits a draft it has not seen the latest version of."""
    if version is None:
        raise bad_request("version is required")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad_request("version must be an integer")
    if version != current["version"]:
        raise APIError(409, f"Draft {current['id']} has already been updated to a new version.")


def as_fields(encoded):
    """A draft's JSON as the fields a PUT may change, so that absent ones stay as they are."""
    return {"subject": encoded["subject"], "body": encoded["body"], "to": encoded["to"],
            "cc": encoded["cc"], "bcc": encoded["bcc"], "from": encoded["from"],
            "file_ids": [f["id"] for f in encoded["files"]]}


def draft_from(conn, handler, body, strict=False):
    """A store ``Draft`` from JSON fields, their types checked; ``strict`` for mail about to
    leave.  The store's send and save check the rest (sender, HTML, limits)."""
    unknown = set(body) - FIELDS
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(sorted(unknown))}")
    draft = Draft(to=_people(body, "to"), cc=_people(body, "cc"), bcc=_people(body, "bcc"),
                  subject=_one_line(_text(body, "subject"))[:998].strip(), body=_text(body, "body"),
                  body_type="html", from_address=_from_address(body))
    _reply_to(conn, handler.user_id, body.get("reply_to_message_id"), draft)
    _files(conn, handler, body.get("file_ids") or [], draft)
    if strict:
        _check_sendable(draft)
    return draft


def _text(body, name):
    value = body.get(name) or ""
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    return value


def _one_line(text):
    """A header's text as the mail will carry it (pouch.mime writes line breaks as spaces), so
    the sender's copy reads as the recipients' does."""
    return LINE_BREAKS.sub(" ", text)


def _people(body, name):
    value = body.get(name) or []
    if not isinstance(value, list):
        raise bad_request(f"{name} must be a list of {{\"name\", \"email\"}}")
    pairs = []
    for person in value:
        if not (isinstance(person, dict) and isinstance(person.get("email"), str)
                and isinstance(person.get("name") or "", str)):
            raise bad_request(f"{name} must be a list of {{\"name\", \"email\"}}")
        pairs.append((_one_line(person.get("name") or "")[:200], person["email"].strip()[:254]))
    return pairs


def _from_address(body):
    """The address ``from`` names (None when absent: the box address)."""
    sender = _people(body, "from")
    if len(sender) > 1:
        raise bad_request("from must name one sender")
    return sender[0][1] if sender else None


def _check_sendable(draft):
    """Every recipient a real address (drafts may hold half-typed ones), in lower case."""
    for _name, email in draft.recipients():
        if not addresses.ADDRESS.match(email):
            raise StoreError(N_("This is not an email address: %(address)s"), address=email)
    draft.to, draft.cc, draft.bcc = ([(n, e.lower()) for n, e in pairs]
                                     for pairs in (draft.to, draft.cc, draft.bcc))


def _id_field(name, value):
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string id")
    return params.object_id(name, value)


def _reply_to(conn, user_id, value, draft):
    if value is None:
        return
    original = mailbox.message(conn, user_id, _id_field("reply_to_message_id", value))
    if original is None:
        raise not_found("message", value)
    draft.in_reply_to = original["message_id"]
    draft.references = [*original["references"].split(), original["message_id"]]


def _files(conn, handler, file_ids, draft):
    if not isinstance(file_ids, list) or not all(isinstance(i, str) for i in file_ids):
        raise bad_request("file_ids must be a list of file ids")
    for file_id in dict.fromkeys(file_ids):
        kind, number = file_id[:1], params.object_id("file id", file_id[1:])
        if kind == "a" and mailbox.attachment(conn, handler.user_id, number) is not None:
            draft.kept_attachments.append(number)
        elif kind == "u" and (upload := uploads.get(conn, handler.user_id, number)) is not None:
            data = handler.store.attachment_files.read(upload["sha256"])
            draft.new_files.append(NewFile(upload["name"], upload["type"], data))
        else:
            raise not_found("file", file_id)
