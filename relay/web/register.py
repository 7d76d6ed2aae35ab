"""POST /api/v1/register: a box trades its one-time code for its own token."""

import base64

import tornado.web

from relay import boxes, keys
from relay.web.base import BoundedHandler


class RegisterHandler(BoundedHandler):
    async def post(self):
        code = self.json_body().get("code")
        if not isinstance(code, str) or not code:
            raise tornado.web.HTTPError(400, "'code' is required")
        try:
            box, token = await self.run_blocking(boxes.redeem, self.settings["engine"], code)
        except boxes.BoxError as error:
            raise tornado.web.HTTPError(403, str(error)) from None
        _, account_key = keys.account_keys(self.settings["relay"])
        self.finish({"box": box.name, "domain": box.domain, "token": token,
                     "account_key": base64.b64encode(account_key).decode()})
