"""Sign up, sign in, sign out, and each user's own settings."""

import tornado.web

from appliance.i18n import LANGUAGES
from appliance.store import accounts
from appliance.store.errors import N_, StoreError
from appliance.web.base import LANGUAGE_COOKIE, SESSION_COOKIE, BaseHandler


class SignUpHandler(BaseHandler):
    def get(self):
        self.render("signup.html", error=None, name="", display_name="")

    def post(self):
        name = self.get_argument("name", "")
        display_name = self.get_argument("display_name", "")
        password = self.get_argument("password", "")
        try:
            if password != self.get_argument("password2", ""):
                raise StoreError(N_("The two passwords are not the same."))
            with self.store.write() as conn:
                user_id = accounts.create_user(conn, name, self.store.domain, password,
                                               display_name=display_name,
                                               language=self._chosen_language())
                user = accounts.find_by_id(conn, user_id)
        except StoreError as error:
            self.set_status(400)
            self.render("signup.html", error=self.error_text(error), name=name,
                        display_name=display_name)
            return
        self.start_session(user)
        self.redirect("/")

    def _chosen_language(self):
        chosen = self.get_cookie(LANGUAGE_COOKIE)
        return chosen if chosen in LANGUAGES else None


class SignInHandler(BaseHandler):
    def get(self):
        self.render("login.html", error=None, email="")

    def post(self):
        email = self.get_argument("email", "").strip().lower()
        if email and "@" not in email:
            email = f"{email}@{self.store.domain}"  # people may type just their name
        throttle = self.settings["login_throttle"]
        keys = (email, self.request.remote_ip)
        wait = throttle.wait_left(*keys)
        if wait:
            return self._refuse(email, self.locale.translate(
                N_("Too many failed attempts. Wait %(seconds)d seconds and try again.")) % {
                "seconds": wait}, 429)
        with self.store.read() as conn:
            user = accounts.authenticate(conn, email, self.get_argument("password", ""))
        if user is None:
            throttle.failed(*keys)
            return self._refuse(email, self.locale.translate(N_("Wrong address or password.")), 403)
        if user["suspended"]:
            return self._refuse(email, self.locale.translate(
                N_("This account is suspended. Ask the box's admin.")), 403)
        throttle.succeeded(*keys)
        self.start_session(user)
        self.redirect(self.get_argument("next", "/") if self._safe_next() else "/")

    def _safe_next(self):
        target = self.get_argument("next", "/")
        return target.startswith("/") and not target.startswith("//")

    def _refuse(self, email, message, status):
        self.set_status(status)
        self.render("login.html", error=message, email=email)


class SignOutHandler(BaseHandler):
    def post(self):
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/login")


class LanguageHandler(BaseHandler):
    """The language chooser for people not signed in (kept in a cookie)."""

    def post(self):
        language = self.get_argument("language", "")
        if language in LANGUAGES:
            self.set_cookie(LANGUAGE_COOKIE, language, expires_days=365, samesite="Lax")
            if self.current_user:
                with self.store.write() as conn:
                    accounts.set_language(conn, self.current_user["id"], language)
        self.redirect("/" if self.current_user else "/login")


SAVED = {"language": N_("Language saved."), "password": N_("Password changed.")}


class SettingsHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self):
        saved = SAVED.get(self.get_argument("saved", ""))
        self.render("settings.html", message=saved and self.locale.translate(saved), error=None)

    @tornado.web.authenticated
    def post(self):
        try:
            with self.store.write() as conn:
                saved = self._apply(conn, self.current_user)
        except StoreError as error:
            self.set_status(400)
            self.render("settings.html", message=None, error=self.error_text(error))
            return
        self.redirect(f"/settings?saved={saved}")

    def _apply(self, conn, user):
        if self.get_argument("action") == "language":
            language = self.get_argument("language", "")
            if language not in LANGUAGES:
                raise StoreError(N_("Unknown language."))
            accounts.set_language(conn, user["id"], language)
            self.set_cookie(LANGUAGE_COOKIE, language, expires_days=365, samesite="Lax")
            return "language"
        if accounts.authenticate(conn, user["email"], self.get_argument("current", "")) is None:
            raise StoreError(N_("Your current password is not right."))
        if self.get_argument("password", "") != self.get_argument("password2", ""):
            raise StoreError(N_("The two passwords are not the same."))
        accounts.set_password(conn, user["id"], self.get_argument("password", ""))
        self.start_session(accounts.find_by_id(conn, user["id"]))
        return "password"
