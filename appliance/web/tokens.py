"""The settings page's API tokens: make one (shown once), see when each was last used, revoke."""

import tornado.web

from appliance.store import tokens
from appliance.store.errors import StoreError
from appliance.web.base import BaseHandler, as_id


class TokensHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self):
        self._show()

    @tornado.web.authenticated
    def post(self):
        user_id = self.current_user["id"]
        if self.get_argument("action", "") == "revoke":
            with self.store.write() as conn:
                tokens.revoke(conn, user_id, as_id(self.get_argument("token_id", "")))
            return self.redirect("/settings/tokens")
        try:
            with self.store.write() as conn:
                made = tokens.create(conn, user_id, self.get_argument("name", ""))
        except StoreError as error:
            self.set_status(400)
            return self._show(error=self.error_text(error))
        self._show(new_token=made)  # the only time it is shown: no redirect, no cookie

    def _show(self, new_token=None, error=None):
        self.render("tokens.html", tokens=tokens.list_for(self.db, self.current_user["id"]),
                    new_token=new_token, error=error,
                    api_url=f"{self.request.protocol}://{self.request.host}/api")


def token_routes():
    return [(r"/settings/tokens", TokensHandler)]
