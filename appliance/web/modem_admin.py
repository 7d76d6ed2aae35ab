"""Admin page of the modem: the link's state, the APN settings, a connection test.

The APN the admin saves here is kept in the box's state table and wins over the
settings file, which stays the default; `link_settings()` merges the two for
whoever brings the link up (this page's test, the sync job).
"""

import asyncio
import dataclasses
import datetime
import logging
import re

from appliance.store import link_choice
from appliance.store.link_choice import link_settings
from appliance.store.errors import N_, StoreError
from appliance.web.base import AdminHandler
from hardware import ConnectResult, LinkError, LinkState, make_link
from hardware.apn import suggestions
from hardware.link import within
from hardware.settings import IP_TYPES

log = logging.getLogger(__name__)

# 3GPP TS 23.003: labels of letters, digits and dashes, at most 63 octets in all.
APN_NAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?)?\Z")
# Printable ASCII without quotes or backslashes: they end up inside quoted AT commands.
CREDENTIAL = re.compile(r"[ !#-\[\]-~]{0,64}\Z")
# Reading the state takes a handful of D-Bus calls or AT commands, each under command_timeout.
STATE_STEPS = 8

SIM_LABELS = {"ready": N_("ready"), "pin-required": N_("PIN required"),
              "puk-required": N_("PUK required"), "missing": N_("missing"), "error": N_("error")}
REGISTRATION_LABELS = {"home": N_("home network"), "roaming": N_("roaming"),
                       "searching": N_("searching"), "denied": N_("refused"),
                       "idle": N_("not registered")}


def modem_routes(tester=None):
    """The URL routes of the modem's admin page; one `ConnectionTester` shared by both."""
    tester = tester or ConnectionTester()
    return [(r"/admin/modem", ModemHandler, {"tester": tester}),
            (r"/admin/modem/test", ModemTestHandler, {"tester": tester})]


async def read_state(settings):
    """The link's state, or why it cannot be read, within a deadline."""
    try:
        link = await within(settings.command_timeout, make_link(settings), "finding the link")
    except LinkError as error:
        return LinkState(kind=settings.kind, present=False, last_error=str(error))
    return await read_state_of(link)


async def read_state_of(link):
    seconds = link.settings.command_timeout * STATE_STEPS
    try:
        return await within(seconds, link.state(), "reading the modem's state")
    except LinkError as error:
        return LinkState(kind=link.kind, present=False, last_error=str(error))


class ConnectionTester:
    """Runs one connection test at a time beside the IOLoop's other work; keeps its result."""

    def __init__(self):
        self.last_result = None
        self.reading = None  # the state while the test had the link up: the radio is off otherwise
        self._task = None

    @property
    def running(self):
        return self._task is not None and not self._task.done()

    def start(self, settings):
        """Start a test (up, then down) unless one is running; False when one is."""
        if self.running:
            return False
        self.reading = None
        self._task = asyncio.ensure_future(self._test(settings))
        return True

    async def _test(self, settings):
        link = None
        try:
            link = await make_link(settings)
            async with link.connected():
                self.reading = await read_state_of(link)
            error = None
        except LinkError as failure:
            error = failure
        except Exception as failure:  # noqa: BLE001 - a background task must report, not vanish
            log.exception("connection test failed")
            error = failure
        outcome = link.last_connect if link is not None else None
        if outcome is None or (outcome.ok and error):  # failed before or after connecting
            outcome = ConnectResult(ok=False, seconds=outcome.seconds if outcome else 0.0,
                                    finished=datetime.datetime.now(datetime.timezone.utc),
                                    error=str(error))
        self.last_result = outcome


class ModemBaseHandler(AdminHandler):
    def initialize(self, tester, **deps):
        super().initialize(**deps)
        self.tester = tester

    def current_link_settings(self):
        return link_settings(self.db, self.config.modem)


class ModemHandler(ModemBaseHandler):
    async def get(self, error=None):
        settings = self.current_link_settings()
        testing = self.tester.running
        # A test owns the modem (an AT port opens only once): read the state after it.
        state = None if testing else await read_state(settings)
        if state is not None and self.tester.last_result:
            state = dataclasses.replace(state, last_connect=self.tester.last_result)
        known = suggestions(settings.providers_file, state.operator_code) if state else []
        self.render("modem_admin.html", state=state, testing=testing, link=settings,
                    reading=self.tester.reading,
                    known_apns=known, ip_types=IP_TYPES, error=error,
                    sim_labels=SIM_LABELS, registration_labels=REGISTRATION_LABELS)

    async def post(self):
        try:
            chosen = self.apn_form()
        except StoreError as error:
            self.set_status(400)
            await self.get(error=self.error_text(error))
            return
        with self.store.write() as conn:
            for field, value in chosen.items():
                link_choice.save(conn, field, value)
        self.redirect("/admin/modem")

    def apn_form(self):
        """The APN settings from the form; an empty password keeps the saved one."""
        chosen = {field: self.get_argument(field, "").strip() for field in ("apn", "user", "ip_type")}
        if not APN_NAME.match(chosen["apn"]):
            raise StoreError(N_("An APN is up to 63 letters, digits, dots and dashes."))
        if chosen["ip_type"] not in IP_TYPES:
            raise StoreError(N_("Choose an IP type from the list."))
        password = self.get_argument("password", "")
        if self.get_argument("clear_password", ""):
            chosen["password"] = ""
        elif password:
            chosen["password"] = password
        if not all(CREDENTIAL.match(chosen.get(field, "")) for field in ("user", "password")):
            raise StoreError(N_("User name and password are up to 64 characters, without quotes "
                                "or backslashes."))
        return chosen


class ModemTestHandler(ModemBaseHandler):
    def post(self):
        self.tester.start(self.current_link_settings())
        self.redirect("/admin/modem")
