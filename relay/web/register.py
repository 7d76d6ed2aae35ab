"""POST /api/v1/register: a box trades its one-time code for its own token."""

import base64

import tornado.web

from relay import boxes, keys
from relay.web.base import BoundedHandler


class RegisterHandler(BoundedHandler):
    async def post(self):
        document = self.json_body()
        code, domain = document.get("code"), document.get("domain")
        if not isinstance(code, str) or not code:
            raise tornado.web.HTTPError(400, "'code' is required")
        if domain is not None and not isinstance(domain, str):
            raise tornado.web.HTTPError(400, "'domain' is the domain the box gives its users")
        try:
            box, token = await self.run_blocking(boxes.redeem, self.settings["engine"], code, domain)
        except boxes.WrongDomain as error:  # the box's domain in the answer: what to set
            self.set_status(409)
            self.finish_json({"error": str(error), "domain": error.domain})
            return
        except boxes.BoxError as error:
            raise tornado.web.HTTPError(403, str(error)) from None
        _, account_key = keys.account_keys(self.settings["relay"])
        self.finish_json({"box": box.name, "domain": box.domain, "token": token,
                     "account_key": base64.b64encode(account_key).decode()})
