"""The "Held as spam" folder: a line for each message the relay holds as spam for the user;
"Bring it" asks for it at the next upload (it comes with the next sync), "Not spam" also
teaches the relay's filter."""

import tornado.web

from appliance.store import held
from appliance.store.errors import N_
from appliance.web.base import PAGE_SIZE, BaseHandler, as_id

TITLE = N_("Held as spam")
ACTIONS = {"bring": held.bring, "not_spam": held.not_spam}


class HeldFolderHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self):
        page, offset = self.paging()
        with self.store.read() as conn:
            rows, more = held.lines(conn, self.current_user["id"], offset, PAGE_SIZE)
            asked = {row["id"] for row in rows if held.is_asked(conn, row)}
            refused = {row["id"]: held.refusal(conn, row) for row in rows if row["id"] not in asked}
        self.render("held.html", title=TITLE, rows=rows, asked=asked, refused=refused, page=page, more=more,
                    base_url="/folder/held?")


class HeldActionHandler(BaseHandler):
    @tornado.web.authenticated
    def post(self, line_id, action):
        if action not in ACTIONS:
            raise tornado.web.HTTPError(404)
        user = self.current_user
        with self.store.write() as conn:
            row = held.line(conn, user["id"], as_id(line_id))
            if row is None:
                raise tornado.web.HTTPError(404)
            ACTIONS[action](conn, row, user["email"])
        self.redirect(f"/folder/held?page={self.page_number(strict=False)}#h{row['id']}")


def held_routes():
    # Before the other folders' route, which would take /folder/held for a folder of its own.
    return [(r"/folder/held", HeldFolderHandler), (r"/held/(\d{1,18})/(\w+)", HeldActionHandler)]
