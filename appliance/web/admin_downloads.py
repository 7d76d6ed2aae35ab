"""The admin's choice of what comes down at once: the spam threshold (mail scoring at least it
stays on the relay, in "Held as spam") and the automatic download limit per attachment
(a bigger one comes as a placeholder, brought on request).  The relay learns at the next upload."""

from pouch import limits

from appliance.store import box_settings
from appliance.store.errors import StoreError
from appliance.web.base import AdminHandler


class DownloadsHandler(AdminHandler):
    def get(self, error=None):
        with self.store.read() as conn:
            threshold = box_settings.spam_threshold(conn)
            limit = box_settings.attachment_limit(conn)
        self.render("admin_downloads.html", threshold=threshold, limit_kb=limit // box_settings.KB,
                    most_kb=limits.ATTACHMENT_LIMIT_MAX // box_settings.KB, error=error,
                    saved=self.get_argument("saved", "") == "1")

    def post(self):
        try:
            threshold = box_settings.check_threshold(self.get_argument("spam_threshold", ""))
            limit = box_settings.check_kb(self.get_argument("attachment_limit_kb", ""),
                                          limits.ATTACHMENT_LIMIT_MAX)
        except StoreError as error:
            self.set_status(400)
            return self.get(error=self.error_text(error))
        with self.store.write() as conn:
            box_settings.save_box(conn, threshold, limit)
        self.redirect("/admin/downloads?saved=1")
