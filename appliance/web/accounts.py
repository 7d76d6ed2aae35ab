"""Sign up, sign in, sign out, and each user's own settings."""

import tornado.web

from appliance.i18n import LANGUAGES
from appliance.store import passwords, users
from appliance.store.errors import N_, StoreError
from appliance.web.base import LANGUAGE_COOKIE, BaseHandler

WAIT = N_("Too many failed attempts. Wait %(seconds)d seconds and try again.")
# RFC 5321: 64 for the local part, 255 for the domain, the @.  What is typed beyond names no
# account; cut, it cannot make the sign-in throttle keep 64 KB per failed try.
MAX_ADDRESS_CHARS = 320


class SignUpHandler(BaseHandler):
    def get(self):
        self.render("signup.html", error=None, name="", display_name="")

    async def post(self):
        name = self.get_argument("name", "")
        display_name = self.get_argument("display_name", "")
        password = self.get_argument("password", "")
        throttle = self.signup_throttle
        wait = throttle.wait_left(self.client)
        if wait:
            return self._refuse(self.locale.translate(WAIT) % {"seconds": wait}, 429)
        throttle.count(self.client)  # every try: a script making accounts slows down
        try:
            if password != self.get_argument("password2", ""):
                raise StoreError(N_("The two passwords are not the same."))
            users.check_name(name)  # the cheap checks before the costly hash
            hashed = await passwords.hash_off_loop(users.check_password(password))
            with self.store.write() as conn:
                user_id = users.create_user(conn, name, self.store.domain, password,
                                               display_name=display_name,
                                               language=self._chosen_language(), password_hash=hashed)
                user = users.find_by_id(conn, user_id)
                self.start_session(user, conn)
        except StoreError as error:
            return self._refuse(self.error_text(error), 400)
        self.redirect("/")

    def _refuse(self, message, status):
        self.set_status(status)
        self.render("signup.html", error=message, name=self.get_argument("name", ""),
                    display_name=self.get_argument("display_name", ""))

    def _chosen_language(self):
        chosen = self.get_cookie(LANGUAGE_COOKIE)
        return chosen if chosen in LANGUAGES else None


class SignInHandler(BaseHandler):
    def get(self):
        self.render("login.html", error=None, email="")

    async def post(self):
        email = self.get_argument("email", "").strip().lower()[:MAX_ADDRESS_CHARS]
        if email and "@" not in email:
            email = f"{email}@{self.store.domain}"  # people may type just their name
        throttle, client = self.login_throttle, self.client
        wait = throttle.wait_left(client, email)
        if wait:
            return self._refuse(email, self.locale.translate(WAIT) % {"seconds": wait}, 429)
        with throttle.attempt(client, email) as attempt:
            user = await users.authenticate_off_loop(self.store, email,
                                                        self.get_argument("password", ""))
            attempt.right = user is not None
        if user is None:
            return self._refuse(email, self.locale.translate(N_("Wrong address or password.")), 403)
        if user["suspended"]:
            return self._refuse(email, self.locale.translate(
                N_("This account is suspended. Ask the box's admin.")), 403)
        self.start_session(user)
        self.redirect(self.next_path("/"))

    def _refuse(self, email, message, status):
        self.set_status(status)
        self.render("login.html", error=message, email=email)


class SignOutHandler(BaseHandler):
    def post(self):
        self.end_session()  # on the box too: a copy of the cookie signs no one in
        self.redirect("/login")


class LanguageHandler(BaseHandler):
    """The language chooser for people not signed in (kept in a cookie)."""

    def post(self):
        language = self.get_argument("language", "")
        if language in LANGUAGES:
            self.set_cookie(LANGUAGE_COOKIE, language, expires_days=365, samesite="Lax")
            if self.current_user:
                with self.store.write() as conn:
                    users.set_language(conn, self.current_user["id"], language)
        self.redirect("/" if self.current_user else "/login")


SAVED = {"language": N_("Language saved."), "password": N_("Password changed.")}


class SettingsHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self):
        saved = SAVED.get(self.get_argument("saved", ""))
        self.render("settings.html", message=saved and self.locale.translate(saved), error=None)

    @tornado.web.authenticated
    async def post(self):
        try:
            if self.get_argument("action") == "language":
                saved = self._set_language(self.current_user)
            else:
                saved = await self._set_password(self.current_user)
        except StoreError as error:
            self.set_status(400)
            self.render("settings.html", message=None, error=self.error_text(error))
            return
        self.redirect(f"/settings?saved={saved}")

    def _set_language(self, user):
        language = self.get_argument("language", "")
        if language not in LANGUAGES:
            raise StoreError(N_("Unknown language."))
        with self.store.write() as conn:
            users.set_language(conn, user["id"], language)
        self.set_cookie(LANGUAGE_COOKIE, language, expires_days=365, samesite="Lax")
        return "language"

    async def _set_password(self, user):
        """Hashes run in the hashing pool; the change ends every other session of the user."""
        if await users.authenticate_off_loop(self.store, user["email"],
                                                self.get_argument("current", "")) is None:
            raise StoreError(N_("Your current password is not right."))
        password = self.get_argument("password", "")
        if password != self.get_argument("password2", ""):
            raise StoreError(N_("The two passwords are not the same."))
        hashed = await passwords.hash_off_loop(users.check_password(password))
        with self.store.write() as conn:
            users.set_password(conn, user["id"], password, password_hash=hashed)
            self.start_session(user, conn)
        return "password"
