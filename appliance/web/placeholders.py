"""Attachments that wait on the relay, on the message page: a placeholder's preview, "Get it"
and "Get the original" (one request for the whole box, riding the next upload), and the
original's download once it came (store.placeholders)."""

import os

import tornado.web

from appliance.downloads import send_file
from appliance.store import mailbox, placeholders
from appliance.web.base import BaseHandler

ASKS = {"get": False, "get-original": True}  # the URL's word: whether the original is asked for


def placeholder_routes():
    return [
        (r"/attachment/(\d{1,18})/preview", PreviewHandler),
        (r"/attachment/(\d{1,18})/original", OriginalHandler),
        (r"/attachment/(\d{1,18})/(get|get-original)", AskHandler),
    ]


class PreviewHandler(BaseHandler):
    """The few KB of a held image the relay sent, to its message's users only."""

    @tornado.web.authenticated
    def get(self, attachment_id):
        found = mailbox.attachment(self.db, self.current_user["id"], int(attachment_id))
        kind = placeholders.preview_type(found["preview"] or b"") if found else None
        if kind is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", kind)
        self.set_header("Cache-Control", "private, max-age=86400")
        self.write(found["preview"])


class OriginalHandler(BaseHandler):
    """The original of a photo the relay shrank, once it came; named for what it is."""

    @tornado.web.authenticated
    async def get(self, attachment_id):
        found = mailbox.attachment(self.db, self.current_user["id"], int(attachment_id))
        if found is None or not found["original_sha256"]:
            raise tornado.web.HTTPError(404)
        await send_file(self, original_file(self.store, found), download=True)


def original_file(store, row):
    """What ``send_file`` needs of attachment ``row``'s original: its name, type and digest."""
    sha_hex = row["original_sha256"]
    head = b""
    if store.attachment_files.has(sha_hex):
        with store.attachment_files.path(sha_hex).open("rb") as original:
            head = original.read(12)
    found = placeholders.image_type(head)
    if found is None:
        return {"name": row["name"], "type": "application/octet-stream", "sha256": sha_hex}
    kind, extension = found
    return {"name": (os.path.splitext(row["name"])[0] or "photo") + extension, "type": kind, "sha256": sha_hex}


class AskHandler(BaseHandler):
    """"Get it" / "Get the original": asked once for every user of the box who has the message."""

    @tornado.web.authenticated
    def post(self, attachment_id, word):
        user = self.current_user
        with self.store.write() as conn:
            found = mailbox.attachment(conn, user["id"], int(attachment_id))
            if found is None:
                raise tornado.web.HTTPError(404)
            placeholders.ask(self.store, conn, user, found, original=ASKS[word])
            thread_id = mailbox.message(conn, user["id"], found["message_id"])["thread_id"]
        self.redirect(f"/thread/{thread_id}#m{found['message_id']}")
