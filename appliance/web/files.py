"""Attachment downloads and inline (cid:) images, only to users who have the message
(how they are sent: appliance.downloads)."""

import tornado.web

from appliance.downloads import send_file
from appliance.store import mailbox
from appliance.web.base import BaseHandler


class AttachmentHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, attachment_id):
        with self.store.read() as conn:
            found = mailbox.attachment(conn, self.current_user["id"], int(attachment_id))
        await send_file(self, found, download=True)


class InlineImageHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, message_id, cid):
        with self.store.read() as conn:
            found = mailbox.attachment_by_cid(conn, self.current_user["id"], int(message_id), cid)
        await send_file(self, found, download=False)
