"""The admin's home: how the box's sync is doing at a glance, and the way to every admin page."""

import datetime

from appliance.store import boxinfo, sync_state, sync_usage
from appliance.store.link_choice import link_settings
from appliance.sync.windows import WindowError, zone
from appliance.web.base import AdminHandler
from appliance.web.modem_admin import read_state
from appliance.web.reasons import SYNC, explain


class SyncPageMixin:
    """What the admin home and the sync page both show of the sync under way."""

    @property
    def scheduler(self):
        """The serve process's Scheduler (appliance.server.Running), None when syncing is off."""
        return self.running.scheduler

    def sync_namespace(self):
        return {"scheduler": self.scheduler, "reason": lambda error: explain(self.locale, error, SYNC)}


class AdminHomeHandler(SyncPageMixin, AdminHandler):
    async def get(self):
        box = self.config
        try:
            local = zone(box.box.timezone)
        except WindowError:
            local = datetime.timezone.utc
        with self.store.read() as conn:
            last = sync_usage.history(conn, 1)
            relay = sync_state.registration(conn)
            waiting = sync_state.waiting(conn)
            figures = boxinfo.figures(conn, self.store.data_dir)
            months = sync_usage.totals(conn, local, "month", since_days=31)
        this_month = datetime.datetime.now(local).strftime("%Y-%m")
        month = next((row for row in months if row["period"] == this_month), None)
        used = month["wire_bytes_up"] + month["wire_bytes_down"] if month else 0
        # A sync owns the modem meanwhile (an AT port opens only once): no reading then.
        syncing = self.scheduler is not None and self.scheduler.busy
        modem = None if syncing else await read_state(link_settings(self.db, box.modem))
        self.render("admin_home.html", last=last[0] if last else None, relay=relay, waiting=waiting,
                    queued=figures["queued"], used=used, budget=box.sync.month_budget_mb * sync_usage.MB,
                    modem=modem, **self.sync_namespace())
