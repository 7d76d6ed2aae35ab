"""Attachment downloads and inline (cid:) images, only to users who have the message.

Whatever type the sender claimed, a file leaves the box as application/octet-stream to
download, so no attachment can pass for the box's own script or page (a ``.js`` attachment
under ``script-src 'self'``); only a few image types show as themselves, never SVG."""

import tornado.escape
import tornado.web

from appliance.store import mailbox
from appliance.web.base import BaseHandler
from appliance.web.uploads import safe_name

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOWNLOAD_TYPE = "application/octet-stream"


class AttachmentHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self, attachment_id):
        with self.store.read() as conn:
            found = mailbox.attachment(conn, self.current_user["id"], int(attachment_id))
        self.send_file(found, download=True)

    def send_file(self, found, download):
        """Images of INLINE_TYPES keep their type (inline unless ``download``); all else downloads."""
        if found is None or not self.store.blobs.has(found["sha256"]):
            raise tornado.web.HTTPError(404)
        content_type = found["type"].lower()
        image = content_type in INLINE_TYPES
        self.set_header("Content-Type", content_type if image else DOWNLOAD_TYPE)
        quoted = tornado.escape.url_escape(safe_name(found["name"]), plus=False)
        how = "inline" if image and not download else "attachment"
        self.set_header("Content-Disposition", f"{how}; filename*=UTF-8''{quoted}")
        self.set_header("Cache-Control", "private, max-age=86400")
        self.write(self.store.blobs.read(found["sha256"]))


class InlineImageHandler(AttachmentHandler):
    @tornado.web.authenticated
    def get(self, message_id, cid):
        with self.store.read() as conn:
            found = mailbox.attachment_by_cid(conn, self.current_user["id"], int(message_id), cid)
        self.send_file(found, download=False)
