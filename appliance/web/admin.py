"""Admin pages: the box's users, and the box itself (disk, mail, sync history, limits)."""

import tornado.web

from appliance.store import boxinfo, passwords, sync_usage, users
from appliance.store.errors import N_, StoreError
from appliance.store.safe_text import whole_number
from appliance.web.base import PAGE_SIZE, AdminHandler, as_id

USER_ACTIONS = {
    "suspend": lambda conn, user_id, _h: users.set_suspended(conn, user_id, True),
    "enable": lambda conn, user_id, _h: users.set_suspended(conn, user_id, False),
    "make_admin": lambda conn, user_id, _h: users.set_admin(conn, user_id, True),
    "unmake_admin": lambda conn, user_id, _h: users.set_admin(conn, user_id, False),
    "password": lambda conn, user_id, handler: users.set_password(
        conn, user_id, handler.get_argument("password", ""), password_hash=handler.new_hash),
}


class UsersHandler(AdminHandler):
    new_hash = None  # a reset password, hashed before the transaction

    def get(self, error=None):
        page, offset = self.paging()
        with self.store.read() as conn:
            rows = users.page(conn, offset, PAGE_SIZE + 1)
        self.render("admin_users.html", rows=rows[:PAGE_SIZE], page=page,
                    more=len(rows) > PAGE_SIZE, base_url="/admin/users?", error=error)

    async def post(self):
        action = self.get_argument("action", "")
        user_id = as_id(self.get_argument("user_id", ""))
        try:
            if action not in USER_ACTIONS:
                raise StoreError(N_("Unknown action."))
            if user_id == self.current_user["id"] and action in ("suspend", "unmake_admin"):
                raise StoreError(N_("You cannot do this to your own account."))
            if action == "password":  # hashed in the pool, off the server's loop
                self.new_hash = await passwords.hash_off_loop(
                    users.check_password(self.get_argument("password", "")))
            with self.store.write() as conn:
                if users.find_by_id(conn, user_id) is None:
                    raise tornado.web.HTTPError(404)
                USER_ACTIONS[action](conn, user_id, self)
        except StoreError as error:
            self.set_status(400)
            self.get(error=self.error_text(error))
            return
        self.redirect(f"/admin/users?page={self.page_number(strict=False)}")


class BoxHandler(AdminHandler):
    def get(self, error=None):
        with self.store.read() as conn:
            figures = boxinfo.figures(conn, self.store.data_dir)
            history = sync_usage.history(conn, limit=20)
            limit = boxinfo.get(conn, boxinfo.MAX_ATTACHMENTS_MB)
        self.render("admin_box.html", figures=figures, history=history, limit=limit, error=error)

    def post(self):
        value = whole_number(self.get_argument("max_attachments_mb", ""), digits=3)
        if value is None or not 1 <= value <= 100:
            self.set_status(400)
            self.get(error=self.locale.translate(N_("The limit is a whole number of MB, 1 to 100.")))
            return
        with self.store.write() as conn:
            boxinfo.put(conn, boxinfo.MAX_ATTACHMENTS_MB, value)
        self.redirect("/admin/box")
