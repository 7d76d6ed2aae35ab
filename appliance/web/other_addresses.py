"""Settings, "Your other addresses": add an external account (its settings sealed for the
relay at once), see how the relay's syncing of it goes, pause, resume, remove, and give
it a new password.  Works without JavaScript: the add form comes in two steps (the
address first, then everything else filled in from its domain)."""

import tornado.web

from appliance.mail_providers import preset
from appliance.store import other_address_form, other_addresses, sync_state
from appliance.store.other_address_form import AccountForm
from appliance.store.errors import N_, StoreError
from appliance.web.base import BaseHandler

SAVED = {"added": N_("Address added. The relay starts fetching its mail after the next sync."),
         "paused": N_("Paused: the relay stops fetching this address's mail after the next sync."),
         "resumed": N_("Resumed from the next sync."),
         "removed": N_("Removed. The relay forgets its password at the next sync."),
         "password": N_("Password changed. The relay uses it from the next sync.")}
ACTIONS = {"pause": (other_addresses.pause, "paused"), "resume": (other_addresses.resume, "resumed")}
PAGES = {"remove": "address_remove.html", "password": "address_password.html"}
ACCOUNT_ID = r"([0-9a-f]{1,32})"


def status(row):
    """(css class, untranslated text, params) of an account as the relay last reported it."""
    if row["state"] == "paused":
        return "", N_("Paused"), {}
    if row["version"] > row["taken_version"]:  # a change the relay has not taken yet
        return "", N_("Waiting for the next sync"), {}
    if row["relay_state"] == "error":
        return "bad", N_("Error: %(error)s"), {"error": row["relay_error"]}
    if row["relay_state"] == "syncing":
        return "ok", N_("Syncing"), {}
    if row["relay_state"] in ("paused", "removed"):  # the relay's operator stopped it
        return "bad", N_("Stopped at the relay"), {}
    return "", N_("Waiting for the next sync"), {}


class AddressesHandler(BaseHandler):
    @tornado.web.authenticated
    def get(self):
        saved = SAVED.get(self.get_argument("saved", ""))
        self._list(message=saved and self.locale.translate(saved))

    @tornado.web.authenticated
    def post(self):
        if self.get_argument("action", "") == "start":
            return self._start()
        form = AccountForm(**{name: self.get_argument(name, "") for name in vars(AccountForm())})
        try:
            with self.store.write() as conn:
                other_addresses.add(conn, self.current_user, form, sync_state.account_key(conn),
                                      self.store.domain)
        except StoreError as error:
            self.set_status(400)
            return self._form(form.without_secrets(), error=self.error_text(error))
        self.redirect("/settings/addresses?saved=added")

    def _start(self):
        """Step one: the address alone; step two shows the form filled in for its domain."""
        typed = self.get_argument("address", "")
        try:
            address = other_address_form.check_address(typed)
        except StoreError as error:
            self.set_status(400)
            return self._list(error=self.error_text(error), typed=typed)
        form, hint = preset(address, self.current_user["display_name"])
        self._form(form, hint=self.locale.translate(hint))

    def _list(self, message=None, error=None, typed=""):
        rows = other_addresses.list_for(self.db, self.current_user["id"])
        self.render("addresses.html", accounts=rows, status=status, message=message, error=error,
                    typed=typed, unable=self._unable())

    def _form(self, form, error=None, hint=None):
        self.render("address_form.html", form=form, error=error, hint=hint, unable=self._unable())

    def _unable(self):
        """Why no address can be added now (the relay's key is not known yet), or None."""
        if sync_state.account_key(self.db) is not None:
            return None
        if sync_state.registration(self.db) is None:
            return self.locale.translate(N_("Other addresses can be added once the box is registered "
                                            "with a relay."))
        return self.locale.translate(N_("Other addresses can be added after the box's next sync "
                                        "with the relay."))


class AddressActionHandler(BaseHandler):
    """/settings/addresses/<id>/<action>: pause and resume; remove and password ask first."""

    @tornado.web.authenticated
    def get(self, account_id, action):
        if action not in PAGES:
            raise tornado.web.HTTPError(405)
        self._page(action, self._account(account_id))

    @tornado.web.authenticated
    def post(self, account_id, action):
        row = self._account(account_id)
        user_id = self.current_user["id"]
        try:
            with self.store.write() as conn:
                saved = self._apply(conn, user_id, row, action)
        except StoreError as error:
            self.set_status(400)
            return self._page(action, row, error=self.error_text(error))
        self.redirect(f"/settings/addresses?saved={saved}")

    def _apply(self, conn, user_id, row, action):
        if action in ACTIONS:
            change, saved = ACTIONS[action]
            change(conn, user_id, row["id"])
            return saved
        if action == "remove":
            other_addresses.remove(conn, user_id, row["id"])
            return "removed"
        form = AccountForm(**{name: self.get_argument(name, "") for name in AccountForm.SECRET_FIELDS})
        other_addresses.change_secret(conn, user_id, row["id"], form, sync_state.account_key(conn))
        return "password"

    def _account(self, account_id):
        row = other_addresses.find(self.db, self.current_user["id"], account_id)
        if row is None or row["state"] not in other_addresses.USABLE:
            raise tornado.web.HTTPError(404)
        return row

    def _page(self, action, row, error=None):
        if action not in PAGES:
            raise tornado.web.HTTPError(404)
        self.render(PAGES[action], account=row, servers=other_addresses.servers(row), error=error)


def address_routes():
    return [(r"/settings/addresses", AddressesHandler),
            (rf"/settings/addresses/{ACCOUNT_ID}/(pause|resume|remove|password)", AddressActionHandler)]
