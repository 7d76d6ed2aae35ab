"""Attachment downloads and inline (cid:) images, only to users who have the message."""

import mimetypes

import tornado.escape
import tornado.web

from appliance.store import mailbox
from appliance.web.base import BaseHandler

# Inline images may show in the page; anything else only ever downloads.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class AttachmentHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self, attachment_id):
        with self.store.read() as conn:
            found = mailbox.attachment(conn, self.current_user["id"], int(attachment_id))
        self.send_file(found, download=True)

    def send_file(self, found, download):
        if found is None or not self.store.blobs.has(found["sha256"]):
            raise tornado.web.HTTPError(404)
        content_type = found["type"].lower()
        if download or content_type not in INLINE_TYPES:
            self.set_header("Content-Type", _download_type(content_type, found["name"]))
            quoted = tornado.escape.url_escape(found["name"], plus=False)
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quoted}")
        else:
            self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "private, max-age=86400")
        self.write(self.store.blobs.read(found["sha256"]))


class InlineImageHandler(AttachmentHandler):
    @tornado.web.authenticated
    def get(self, message_id, cid):
        with self.store.read() as conn:
            found = mailbox.attachment_by_cid(conn, self.current_user["id"], int(message_id), cid)
        self.send_file(found, download=False)


def _download_type(content_type, name):
    if "/" in content_type and "\n" not in content_type:
        return content_type
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
