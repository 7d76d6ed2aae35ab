"""Admin pages of sync: history, data usage per day and month and what it cost,
the schedule, and "sync now".  The serve process puts its ``Scheduler`` in
the ``running`` its handlers are given (appliance.server.Running).
"""

from appliance.store import set_aside, sync_state, sync_usage
from appliance.store.errors import N_
from appliance.sync.client import RelayError, make_http_client
from appliance.sync.registration import register
from appliance.sync.windows import WindowError, zone
from appliance.web.admin_home import SyncPageMixin
from appliance.web.base import AdminHandler

HISTORY_ROWS = 30


class SyncAdminHandler(SyncPageMixin, AdminHandler):
    def show(self, error=None, status=200):
        self.set_status(status)
        box = self.config
        try:
            local = zone(box.box.timezone)
        except WindowError as problem:
            local, error = None, error or str(problem)
        with self.store.read() as conn:
            relay = sync_state.registration(conn)
            history = sync_usage.history(conn, HISTORY_ROWS)
            days = sync_usage.totals(conn, local, "day", since_days=31) if local else []
            months = sync_usage.totals(conn, local, "month") if local else []
            waiting = sync_state.waiting(conn)
            kept_aside = set_aside.listing(conn)
        self.render("sync_admin.html", history=history, days=days, months=months,
                    price=box.sync.price_per_mb, currency=box.sync.currency, cost=sync_usage.cost,
                    waiting=waiting, relay=relay, error=error,
                    kept_aside=kept_aside, kept_folder=set_aside.FOLDER, **self.sync_namespace())

    def refuse(self, status, message):
        self.show(self.locale.translate(message), status)


class SyncHandler(SyncAdminHandler):
    def get(self):
        self.show()


class SyncNowHandler(SyncAdminHandler):
    def post(self):
        if self.scheduler is None:
            return self.refuse(503, N_("Syncing is not running."))
        with self.store.read() as conn:
            registered = sync_state.registration(conn) is not None
        if not registered:
            return self.refuse(409, N_("This box is not registered with a relay yet."))
        if not self.scheduler.sync_now():
            return self.refuse(409, N_("A sync is already running."))
        self.redirect(self.next_path("/admin/sync"))


class ScheduleHandler(SyncAdminHandler):
    def post(self):
        if self.scheduler is None:
            return self.refuse(503, N_("Syncing is not running."))
        try:
            self.scheduler.set_windows(self.get_argument("windows", "").strip())
        except WindowError as error:
            return self.show(str(error), 400)
        self.redirect("/admin/sync")


class RegisterHandler(SyncAdminHandler):
    """The admin page's form for `mailpouch-appliance register RELAY_URL CODE`."""

    async def post(self):
        relay_url, code = self.get_argument("relay_url", "").strip(), self.get_argument("code", "").strip()
        if not relay_url.startswith(("https://", "http://")) or not code:
            return self.refuse(400, N_("Give the relay's address (https://...) and the code."))
        http = make_http_client()
        try:
            await register(self.config, self.store, http, relay_url, code)
        except RelayError as error:
            return self.show(str(error), 400)
        finally:
            http.close()
        self.redirect("/admin/sync")


def sync_routes():
    return [
        (r"/admin/sync", SyncHandler),
        (r"/admin/sync/now", SyncNowHandler),
        (r"/admin/sync/schedule", ScheduleHandler),
        (r"/admin/sync/register", RegisterHandler),
    ]
