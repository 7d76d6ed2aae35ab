"""Threads and messages: lists with the sync-engine's filters, single objects, and
changing the user's view of them (unread, starred, folder)."""

from appliance.api import filters, objects, params, readonly
from appliance.api.base import ApiHandler
from appliance.api.errors import bad_request, not_found
from appliance.store import listing, mailbox, search
from appliance.store.messages import DRAFTS
from appliance.store.outbox import as_record as outgoing_record  # the record the relay gets
from pouch.mime import build

RAW_MIME = "message/rfc822"
MOVABLE = {"inbox", "trash", "sent", "drafts"}
# What a client may send back unchanged with a PUT (the Nylas SDKs' save() sends everything).
FIXED = ("subject", "body", "from", "to", "cc", "bcc", "participants", "message_ids", "draft_ids")
THREAD_DERIVED = (*readonly.DERIVED, "first_message_timestamp", "last_message_timestamp",
                  "last_message_received_timestamp", "last_message_sent_timestamp",
                  "has_attachments", "messages", "drafts", "version", "labels")


class MessageListHandler(ApiHandler):
    PARAMS = {"GET": filters.NAMES}
    count, ids = staticmethod(listing.count_messages), staticmethod(listing.message_ids)
    DRAFTS = False  # drafts are listed at /drafts, with the same filters

    def get(self):
        limit, offset, view = params.paging(self.args)
        wanted = filters.read(self.args)
        if wanted is None:
            return self.reply({"count": 0} if view == "count" else [])
        wanted.drafts = self.DRAFTS
        if view == "count":
            return self.reply({"count": self.count(self.db, self.user_id, wanted)})
        ids = self.ids(self.db, self.user_id, wanted, offset, limit)
        if view == "ids":
            return self.reply([str(i) for i in ids])
        self.reply(self.encoded(ids, view == "expanded"))

    def encoded(self, ids, expanded):
        return objects.messages(self.db, self.user_id, ids, expanded=expanded)


class ThreadListHandler(MessageListHandler):
    count, ids = staticmethod(listing.count_threads), staticmethod(listing.thread_ids)

    def encoded(self, ids, expanded):
        return objects.threads(self.db, self.user_id, ids, expanded)


class MessageSearchHandler(ApiHandler):
    """``q`` on the box's full-text index, best match first, as the web client's search."""

    PARAMS = {"GET": ("q", "limit", "offset")}

    def get(self):
        limit, offset, _view = params.paging(self.args)
        ids = self.found(self.args.get("q", ""), offset, limit)
        self.reply(self.encoded(ids))

    def found(self, q, offset, limit):
        return [row["id"] for row in self.matches(q, offset, limit)]

    def matches(self, q, offset, limit):
        if len(q) > filters.MAX_TEXT:
            raise bad_request("q is too long")
        rows, _more = search.search(self.db, self.user_id, q, offset, limit)
        return [row for row in rows if row["folder"] != DRAFTS]

    def encoded(self, ids):
        return objects.messages(self.db, self.user_id, ids)


class ThreadSearchHandler(MessageSearchHandler):
    def found(self, q, offset, limit):
        thread_ids = dict.fromkeys(row["thread_id"] for row in self.matches(q, 0, params.MAX_LIMIT))
        return list(thread_ids)[offset:offset + limit]

    def encoded(self, ids):
        return objects.threads(self.db, self.user_id, ids)


class MessageHandler(ApiHandler):
    PARAMS = {"GET": ("view",), "PUT": ()}

    def get(self, message_id):
        message_id = params.object_id("message id", message_id)
        found = objects.message(self.db, self.user_id, message_id, draft=False,
                                expanded=params.expanded(self.args))
        if found is None:
            raise not_found("message", message_id)
        if RAW_MIME in self.request.headers.get("Accept", ""):
            return self._raw(message_id)
        self.reply(found)

    def _raw(self, message_id):
        row = mailbox.message(self.db, self.user_id, message_id)
        files = mailbox.attachments_of(self.db, [message_id]).get(message_id, [])
        record = outgoing_record(row, files)
        blobs = {bytes.fromhex(f["sha256"]): self.store.attachment_files.read(f["sha256"])
                 for f in files if self.store.attachment_files.has(f["sha256"])}
        missing = [a for a in record.attachments if a.sha256 not in blobs]
        record.attachments = [a for a in record.attachments if a.sha256 in blobs]
        self.set_header("Content-Type", RAW_MIME)
        if missing:  # not yet downloaded: say so rather than fail
            self.set_header("X-Mailpouch-Missing-Files", str(len(missing)))
        self.finish(build(record, blobs))

    def put(self, message_id):
        message_id = params.object_id("message id", message_id)
        with self.store.write() as conn:
            current = objects.message(conn, self.user_id, message_id, draft=False)
            if current is None:
                raise not_found("message", message_id)
            body = readonly.dropped(self.json_body(), self.user_id, ("message",), message_id,
                                    current, fixed=FIXED)
            if body.get("folder") == current["folder"]:  # the folder object, sent back as it was
                del body["folder"]
            apply_changes(conn, self.user_id, [message_id], body)
        self.reply(objects.message(self.db, self.user_id, message_id, draft=False))


class ThreadHandler(ApiHandler):
    PARAMS = {"GET": ("view",), "PUT": ()}

    def get(self, thread_id):
        thread_id = params.object_id("thread id", thread_id)
        self.reply(self._thread(thread_id, params.expanded(self.args)))

    def _thread(self, thread_id, expanded=False):
        found = objects.threads(self.db, self.user_id, [thread_id], expanded)
        if not found:
            raise not_found("thread", thread_id)
        return found[0]

    def put(self, thread_id):
        thread_id = params.object_id("thread id", thread_id)
        current = self._thread(thread_id)
        body = readonly.dropped(self.json_body(), self.user_id, ("thread",), thread_id, current,
                                THREAD_DERIVED, FIXED)
        message_ids = [int(i) for i in current["message_ids"]]
        with self.store.write() as conn:
            apply_changes(conn, self.user_id, message_ids, body)
        self.reply(self._thread(thread_id))


def apply_changes(conn, user_id, message_ids, body):
    """unread, starred and folder(_id) from a PUT body, on the user's copies."""
    unknown = set(body) - {"unread", "starred", "folder_id", "folder"}
    if unknown:
        raise bad_request(f"Unknown field(s): {', '.join(sorted(unknown))}")
    flags = {}
    for name, column in (("unread", "is_read"), ("starred", "starred")):
        if name in body:
            if not isinstance(body[name], bool):
                raise bad_request(f"{name} must be true or false")
            flags[column] = (not body[name]) if name == "unread" else body[name]
    if flags:
        mailbox.set_flags(conn, user_id, message_ids, **flags)
    folder = body.get("folder_id", body.get("folder"))
    if folder is not None:
        _move(conn, user_id, message_ids, folder)


def _move(conn, user_id, message_ids, folder):
    """To the trash, or back out of it to where each message belongs."""
    if not isinstance(folder, str):
        raise bad_request("folder must be a folder id (a string), such as \"trash\"")
    if folder not in MOVABLE:
        raise bad_request(f"Messages can be moved to the trash or out of it, not to {folder!r}")
    for message_id in message_ids:
        if folder == "trash":
            mailbox.to_trash(conn, user_id, message_id)
        else:
            mailbox.restore(conn, user_id, message_id)
