"""What every page of the mail client shares: the signed-in user, language, security headers."""

import tornado.locale
import tornado.web

from appliance.i18n import LANGUAGES
from appliance.store import accounts, mailbox
from appliance.store.passwords import session_stamp
from appliance.web.present import Presenter

SESSION_COOKIE = "session"
LANGUAGE_COOKIE = "lang"
PAGE_SIZE = 25
# Nothing from outside the box, no inline script or style, no framing, forms only to the box.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def as_id(text):
    """A database id from a form or URL value, or None for anything else."""
    return int(text) if text.isdigit() and len(text) <= 18 else None


class BaseHandler(tornado.web.RequestHandler):
    _db = None

    @property
    def store(self):
        return self.settings["store"]

    @property
    def db(self):
        """One connection for all the reads of this request (writes use ``store.write()``)."""
        if self._db is None:
            self._db = self.store.read()
        return self._db

    def on_finish(self):
        if self._db is not None:
            self._db.close()

    def set_default_headers(self):
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Cache-Control", "no-store")

    def get_current_user(self):
        value = self.get_secure_cookie(SESSION_COOKIE, max_age_days=30)
        if not value:
            return None
        user_id, _, stamp = value.decode().partition(":")
        user = accounts.find_by_id(self.db, as_id(user_id))
        if user is None or user["suspended"] or session_stamp(user["password_hash"]) != stamp:
            return None
        return user

    def start_session(self, user):
        value = f"{user['id']}:{session_stamp(user['password_hash'])}"
        self.set_secure_cookie(SESSION_COOKIE, value, expires_days=30, httponly=True,
                               samesite="Lax", secure=self.request.protocol == "https")

    def get_user_locale(self):
        """The user's own choice wins over what the browser asks for."""
        chosen = self.current_user["language"] if self.current_user else None
        chosen = chosen or self.get_cookie(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return tornado.locale.get(chosen)
        return None

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(user=self.current_user, languages=LANGUAGES, counts=self._counts(),
                         show=Presenter(self.locale.code, self.settings["box"].box.timezone))
        return namespace

    def _counts(self):
        if not self.current_user:
            return {}
        return mailbox.counts(self.db, self.current_user["id"])

    def error_text(self, error):
        """A StoreError's message in the page's language."""
        text = self.locale.translate(error.template)
        return text % error.params if error.params else text

    def page_number(self):
        try:
            return max(1, int(self.get_argument("page", "1")))
        except ValueError:
            return 1

    def paging(self):
        page = self.page_number()
        return page, (page - 1) * PAGE_SIZE

    def write_error(self, status_code, **kwargs):
        self.render("error.html", status=status_code)


class AdminHandler(BaseHandler):
    def prepare(self):
        if not self.current_user:
            self.redirect(self.get_login_url())
            return
        if not self.current_user["is_admin"]:
            raise tornado.web.HTTPError(403)
