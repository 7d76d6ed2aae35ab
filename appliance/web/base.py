"""What every page of the mail client shares: the signed-in user, language, paging."""

import re
from urllib.parse import urlsplit

import tornado.locale
import tornado.web

from appliance.http_base import BoxHandler, OverLimitRefusal
from appliance.i18n import LANGUAGES
from appliance.store import mailbox, sessions
from appliance.store.safe_text import whole_number
from appliance.web.present import Presenter, escape_text
from appliance.web.throttle import client_address, client_key

SESSION_COOKIE = "session"
LANGUAGE_COOKIE = "lang"
PAGE_SIZE = 25
MAX_PAGE = 100000  # 2.5 million rows deep: any further is not a page anyone asked for
UNSAFE_IN_PATH = re.compile(r"[\\\x00-\x1f\x7f]")


def as_id(text):
    """A database id from a form or URL value, or None for anything else."""
    return whole_number(text)


def safe_next(target):
    """``target`` when it is a path on this box, else None (no scheme, host, backslash, space)."""
    if not target.startswith("/") or target.startswith("//") or UNSAFE_IN_PATH.search(target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


class BaseHandler(BoxHandler):
    @property
    def client(self):
        """Who is asking, for throttling: the peer, or what a trusted proxy says it is."""
        return client_key(client_address(self.request, self.trusted_proxies))

    def _session_token(self):
        value = self.get_secure_cookie(SESSION_COOKIE, max_age_days=sessions.DAYS)
        try:
            return value.decode("ascii") if value else None
        except UnicodeDecodeError:
            return None

    def get_current_user(self):
        user = sessions.user_for(self.db, self._session_token())
        return None if user is None or user["suspended"] else user

    def start_session(self, user, conn=None):
        """A new server-side session; ``conn`` when the caller is inside a write already."""
        if conn is None:
            with self.store.write() as conn:
                token = sessions.start(conn, user["id"])
        else:
            token = sessions.start(conn, user["id"])
        self.set_secure_cookie(SESSION_COOKIE, token, expires_days=sessions.DAYS, httponly=True,
                               samesite="Lax", secure=self.request.protocol == "https")

    def end_session(self):
        token = self._session_token()
        if token:
            with self.store.write() as conn:
                sessions.end(conn, token)
        self.clear_cookie(SESSION_COOKIE)

    def get_user_locale(self):
        """The user's own choice wins over what the browser asks for."""
        chosen = self.current_user["language"] if self.current_user else None
        chosen = chosen or self.get_cookie(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return tornado.locale.get(chosen)
        return None

    def next_path(self, default=None):
        """The ``next`` argument when it is a path on this box (``safe_next``), else ``default``;
        one that is not UTF-8 is as good as none (not a 400 after the action was done)."""
        try:
            return safe_next(self.get_argument("next", "")) or default
        except tornado.web.HTTPError:
            return default

    def search_text(self):
        """What the search field shows: the query asked for, or nothing when it does not read
        (the error page for a query of invalid UTF-8 shows too)."""
        try:
            return self.get_argument("q", "")
        except tornado.web.HTTPError:
            return ""

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(user=self.current_user, languages=LANGUAGES, counts=self._counts(),
                         escape_text=escape_text,
                         show=Presenter(self.locale.code, self.config.box.timezone))
        return namespace

    def _counts(self):
        if not self.current_user:
            return {}
        return mailbox.counts(self.db, self.current_user["id"])

    def error_text(self, error):
        """A StoreError's message in the page's language."""
        text = self.locale.translate(error.template)
        return text % error.params if error.params else text

    def page_number(self, strict=True):
        """The page asked for; a number past any real page (or not UTF-8) is a 400, not a
        database error.  Not ``strict`` (the redirect after an action done): page 1 instead."""
        try:
            page = max(1, int(self.get_argument("page", "1")))
        except ValueError:
            return 1
        except tornado.web.HTTPError:
            page = MAX_PAGE + 1
        if page > MAX_PAGE:
            if strict:
                raise tornado.web.HTTPError(400, "no such page")
            return 1
        return page

    def paging(self):
        page = self.page_number()
        return page, (page - 1) * PAGE_SIZE

    def write_error(self, status_code, **kwargs):
        self.render("error.html", status=status_code)


@tornado.web.stream_request_body  # its prepare runs once the headers are in, before the body
class TooLongHandler(OverLimitRefusal, BaseHandler):
    """A form declared over its page's limit (http_base.OverLimit): the box's own page saying
    so, where Tornado would cut the connection and a phone show only its own error."""

    def check_xsrf_cookie(self):
        pass  # nothing is done here but the refusal, and a forgery would get only that

    def refuse(self):
        raise tornado.web.HTTPError(413)

    def write_error(self, status_code, **kwargs):
        self.set_header("Connection", "close")
        self.render("error.html", status=status_code, size=self.declared, limit=self.limit)


class NotFoundHandler(BaseHandler):
    """Tornado's answer for unknown paths, as a page of the box (with its headers)."""

    def prepare(self):
        raise tornado.web.HTTPError(404)


class AdminHandler(BaseHandler):
    def prepare(self):
        if not self.current_user:
            self.redirect(self.get_login_url())
            return
        if not self.current_user["is_admin"]:
            raise tornado.web.HTTPError(403)
