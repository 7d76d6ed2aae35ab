"""A modem driven by ModemManager over D-Bus: unlock the SIM, enable, wait
for a network, Simple.Connect, follow the bearer; and back down again."""

import asyncio
import logging
import time

from dbus_next import Variant

from hardware import apn, errors
from hardware.dbus_client import DBusCallError, DBusClient
from hardware.link import Link, LinkState, within

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.ModemManager1"
ROOT = "/org/freedesktop/ModemManager1"
MODEM = SERVICE + ".Modem"
SIMPLE = MODEM + ".Simple"
SIGNAL = MODEM + ".Signal"
GPP = MODEM + ".Modem3gpp"
SIM = SERVICE + ".Sim"
BEARER = SERVICE + ".Bearer"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"

# MMModemState, MMModemLock, MMModemStateFailedReason, MMModem3gppRegistrationState.
STATE_FAILED, STATE_ENABLED, STATE_REGISTERED, STATE_CONNECTED = -1, 6, 8, 11
LOCK_SIM_PIN, LOCK_SIM_PUK = 2, 4
FAILED_SIM_MISSING = 2
REGISTRATION = {0: "idle", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}
REGISTRATION_DENIED = 3
IP_TYPES = {"ipv4": 1, "ipv6": 2, "ipv4v6": 4}  # MMBearerIpFamily
# MMModemAccessTechnology bits, best first.
TECHNOLOGIES = [(1 << 15, "5G"), (1 << 14, "LTE"), (1 << 9, "HSPA+"), (0b111 << 6, "HSPA"),
                (1 << 5, "UMTS"), (1 << 4, "EDGE"), (1 << 3, "GPRS"), (0b11 << 1, "GSM")]
SIGNAL_SOURCES = ("Nr5g", "Lte", "Umts", "Gsm")
SIGNAL_RATE_SECONDS = 10
POLL_SECONDS = 0.2
ME_ERROR = SERVICE + ".Error.MobileEquipment."
ERRORS = {
    ME_ERROR + "IncorrectPassword": errors.WrongPin,
    ME_ERROR + "SimNotInserted": errors.SimMissing,
    ME_ERROR + "SimPin": errors.SimPinRequired,
    ME_ERROR + "SimPuk": errors.SimPinRequired,
    ME_ERROR + "NoNetwork": errors.NoNetwork,
    ME_ERROR + "NetworkTimeout": errors.NoNetwork,
    ME_ERROR + "NetworkNotAllowed": errors.NoNetwork,
}


class ModemManagerLink(Link):
    kind = "modemmanager"

    def __init__(self, settings):
        super().__init__(settings)
        self._interface = ""

    async def _up(self):
        async with await self._connect_bus() as dbus:
            modem = await self._find_modem(dbus)
            try:
                await self._bring_up(dbus, modem)
            except DBusCallError as error:
                raise await self._explain(dbus, modem, error) from None
            except errors.LinkTimeout:
                if not await self._still_there(dbus, modem):
                    raise errors.ModemVanished("the modem disappeared while connecting") from None
                raise

    async def _state(self):
        try:
            async with await self._connect_bus() as dbus:
                modem = await self._find_modem(dbus)
                try:
                    return await self._read(dbus, modem)
                except DBusCallError as error:
                    raise await self._explain(dbus, modem, error) from None
        except (errors.ModemNotFound, errors.ModemVanished) as error:
            return LinkState(self.kind, present=False, last_error=str(error))
        except errors.LinkError as error:
            return LinkState(self.kind, present=True, last_error=str(error))

    async def _down(self):
        try:
            async with await self._connect_bus() as dbus:
                modem = await self._find_modem(dbus)
                await dbus.call(modem, SIMPLE, "Disconnect", "o", ["/"])  # "/": every bearer
                await dbus.call(modem, MODEM, "Enable", "b", [False])  # radio off until next time
        except errors.ModemNotFound:
            pass  # a modem that is gone is down
        except DBusCallError as error:
            log.warning("bringing the modem down: %s", error)
        finally:
            self._interface = ""

    async def _connect_bus(self):
        dbus = await DBusClient.connect(self.settings.bus_address, SERVICE,
                                        self.settings.command_timeout)
        if not await dbus.service_running():
            dbus.close()
            raise errors.ModemNotFound("ModemManager is not running")
        return dbus

    async def _find_modem(self, dbus):
        (objects,) = await dbus.call(ROOT, OBJECT_MANAGER, "GetManagedObjects")
        modems = sorted(path for path, interfaces in objects.items() if MODEM in interfaces)
        if not modems:
            raise errors.ModemNotFound("ModemManager sees no modem (is the stick plugged in?)")
        return modems[0]

    async def _still_there(self, dbus, modem):
        try:
            return modem == await self._find_modem(dbus)
        except errors.ModemNotFound:
            return False
        except errors.LinkTimeout:
            return True  # ModemManager is busy: no sign that the modem went

    async def _explain(self, dbus, modem, error):
        """The LinkError that says what a D-Bus error means for the admin."""
        if not await self._still_there(dbus, modem):
            return errors.ModemVanished("the modem disappeared (unplugged?)")
        kind = ERRORS.get(error.name, errors.ConnectFailed)
        return kind(f"ModemManager: {error.text or error.name}")

    async def _bring_up(self, dbus, modem):
        props = await dbus.properties(modem, MODEM)
        await self._unlock(dbus, props)
        if props["State"] < STATE_ENABLED:
            await dbus.call(modem, MODEM, "Enable", "b", [True])
        await self._wait_for_network(dbus, modem)
        bearer = await self._simple_connect(dbus, modem)
        self._interface = await self._wait_for_bearer(dbus, bearer)

    async def _unlock(self, dbus, props):
        if props["State"] == STATE_FAILED and props.get("StateFailedReason") == FAILED_SIM_MISSING:
            raise errors.SimMissing("no SIM card in the modem")
        lock = props.get("UnlockRequired", 0)
        if lock == LOCK_SIM_PUK:
            raise errors.SimPinRequired("the SIM is blocked and asks for its PUK; unlock it in a phone")
        if lock != LOCK_SIM_PIN:
            return
        if not self.settings.pin:
            raise errors.SimPinRequired("the SIM asks for a PIN and none is configured")
        await dbus.call(props["Sim"], SIM, "SendPin", "s", [self.settings.pin])

    async def _wait_for_network(self, dbus, modem):
        deadline = time.monotonic() + self.settings.register_timeout
        while True:
            state = (await dbus.properties(modem, MODEM))["State"]
            if state >= STATE_REGISTERED:
                return
            registration = (await dbus.properties(modem, GPP)).get("RegistrationState")
            if registration == REGISTRATION_DENIED:
                raise errors.NoNetwork("the network denied registration (is the SIM active?)")
            if time.monotonic() > deadline:
                raise errors.NoNetwork(f"no network found within {self.settings.register_timeout:g} s"
                                       f" ({REGISTRATION.get(registration, 'unknown')})")
            await asyncio.sleep(POLL_SECONDS)

    async def _simple_connect(self, dbus, modem):
        operator_code = (await dbus.properties(modem, GPP)).get("OperatorCode", "")
        settings = self.settings
        properties = {
            "apn": settings.apn or apn.suggest_apn(settings, operator_code),
            "ip-type": IP_TYPES.get(settings.ip_type, IP_TYPES["ipv4"]),
        }
        if settings.user:
            properties.update(user=settings.user, password=settings.password)
        # ModemManager answers once the bearer is up (or has failed).
        (bearer,) = await dbus.call(modem, SIMPLE, "Connect", "a{sv}", [_variants(properties)],
                                    timeout=settings.connect_timeout,
                                    timeout_error=errors.ConnectTimeout)
        return bearer

    async def _wait_for_bearer(self, dbus, bearer):
        async def connected():
            while True:
                props = await dbus.properties(bearer, BEARER)
                if props.get("Connected"):
                    return props.get("Interface", "")
                await asyncio.sleep(POLL_SECONDS)

        return await within(self.settings.connect_timeout, connected(),
                            "the data connection (bearer)", error=errors.ConnectTimeout)

    async def _read(self, dbus, modem):
        props = await dbus.properties(modem, MODEM)
        gpp = await dbus.properties(modem, GPP)
        percent, recent = props.get("SignalQuality", (0, False))
        return LinkState(
            self.kind, present=True, sim=_sim_state(props),
            operator=gpp.get("OperatorName", ""), operator_code=gpp.get("OperatorCode", ""),
            registration=REGISTRATION.get(gpp.get("RegistrationState"), ""),
            signal_percent=percent if recent else None, signal_dbm=await self._signal_dbm(dbus, modem),
            technology=_technology(props.get("AccessTechnologies", 0)),
            connected=props["State"] >= STATE_CONNECTED, interface=self._interface)

    async def _signal_dbm(self, dbus, modem):
        """RSSI from the Signal interface, started on first use; None until the modem reports it."""
        try:
            signal = await dbus.properties(modem, SIGNAL)
            if not signal.get("Rate"):
                await dbus.call(modem, SIGNAL, "Setup", "u", [SIGNAL_RATE_SECONDS])
        except DBusCallError:
            return None  # a modem without extended signal information
        for source in SIGNAL_SOURCES:
            rssi = signal.get(source, {}).get("rssi")
            if rssi is not None:
                return round(rssi)
        return None


def _sim_state(props):
    if props["State"] == STATE_FAILED and props.get("StateFailedReason") == FAILED_SIM_MISSING:
        return "missing"
    lock = props.get("UnlockRequired", 0)
    return {LOCK_SIM_PIN: "pin-required", LOCK_SIM_PUK: "puk-required"}.get(lock, "ready")


def _technology(bits):
    return next((name for mask, name in TECHNOLOGIES if bits & mask), "")


def _variants(properties):
    kinds = {str: "s", int: "u"}
    return {key: Variant(kinds[type(value)], value) for key, value in properties.items()}
