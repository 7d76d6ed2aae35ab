"""POST /api/v1/sync: the box's side of the handshake, with its bearer token."""

import tornado.web

from relay import boxes
from relay.boxsync import sync
from relay.web.base import BoundedHandler, bearer_token


class SyncHandler(BoundedHandler):
    async def post(self):
        token = bearer_token(self.request)
        box = token and await self.run_blocking(boxes.authenticate, self.settings["engine"], token)
        if not box:
            self.set_header("WWW-Authenticate", 'Bearer realm="mailpouch"')
            raise tornado.web.HTTPError(401, "a valid box token is required")
        try:
            response = await sync.handle(self.settings["engine"], self.settings["blob_store"],
                                         self.settings["relay"], box, self.json_body())
        except sync.SyncRequestError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        self.finish_json(response)
