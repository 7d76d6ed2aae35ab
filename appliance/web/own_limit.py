"""A user's own download limit per attachment, lower than the box's: on a phone with little
room, or to keep more of the box's data for others.  A bigger attachment comes on request."""

import tornado.web

from appliance.store import box_settings
from appliance.store.errors import StoreError
from appliance.web.base import BaseHandler


class OwnLimitHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self, error=None):
        user_id = self.current_user["id"]
        with self.store.read() as conn:
            box_limit = box_settings.attachment_limit(conn)
            own = box_settings.user_limit(conn, user_id)
            chosen = box_settings.own_limit(conn, user_id) is not None
        self.render("own_limit.html", box_kb=box_limit // box_settings.KB, own_kb=own // box_settings.KB,
                    chosen=chosen, error=error,
                    saved=self.get_argument("saved", "") == "1")

    @tornado.web.authenticated
    def post(self):
        try:
            with self.store.write() as conn:
                limit = None
                if self.get_argument("action", "") != "box":
                    limit = box_settings.check_kb(self.get_argument("limit_kb", ""),
                                                  box_settings.attachment_limit(conn))
                box_settings.save_user_limit(conn, self.current_user["id"], limit)
        except StoreError as error:
            self.set_status(400)
            return self.get(error=self.error_text(error))
        self.redirect("/settings/downloads?saved=1")
