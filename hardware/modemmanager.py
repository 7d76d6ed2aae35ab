"""A modem driven by ModemManager over D-Bus: unlock the SIM, enable, wait
for a network, Simple.Connect, follow the bearer; and back down again."""

import asyncio
import logging
import math
import time

from dbus_next import Variant

from hardware import apn, errors, pins
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
STATE_FAILED, STATE_DISABLED, STATE_ENABLED, STATE_REGISTERED, STATE_CONNECTED = -1, 3, 6, 8, 11
LOCK_SIM_PIN, LOCK_SIM_PUK = 2, 4  # sim-pin2 and sim-puk2 (3, 5) guard no data: not in the way
# Locks of the stick itself (MMModemLock 6-16): a stick sold locked to one operator, say.
DEVICE_LOCKS = {6: "ph-sp-pin", 7: "ph-sp-puk", 8: "ph-net-pin", 9: "ph-net-puk", 10: "ph-sim-pin",
                11: "ph-corp-pin", 12: "ph-corp-puk", 13: "ph-fsim-pin", 14: "ph-fsim-puk",
                15: "ph-netsub-pin", 16: "ph-netsub-puk"}
FAILED_SIM_MISSING, FAILED_SIM_ERROR = 2, 3
FAILED_REASONS = {1: "unknown", 4: "unknown capabilities", 5: "an eSIM without profiles"}
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
    SERVICE + ".Error.Core.Unauthorized": errors.LinkConfigError,  # polkit: retrying will not help
    "org.freedesktop.DBus.Error.AccessDenied": errors.LinkConfigError,  # the bus's policy
}
NOT_ALLOWED = "the box's service may not drive modems: ModemManager lets only root and users polkit allows"
# What the admin can do about a refused data connection (MobileEquipment errors, 3GPP TS 24.008).
HINTS = {
    ME_ERROR + "GprsMissingOrUnknownApn": "check the APN on the modem page",
    ME_ERROR + "GprsUnknownPdpAddressOrType": "try another IP type on the modem page",
    ME_ERROR + "GprsUserAuthenticationFailed": "check the APN's user and password",
    ME_ERROR + "GprsServiceOptionNotSubscribed": "the SIM has no data plan for this APN; check the APN",
    SERVICE + ".Error.Core.Unauthorized": NOT_ALLOWED,
    "org.freedesktop.DBus.Error.AccessDenied": NOT_ALLOWED,
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
        except (errors.ModemNotFound, errors.ModemVanished):
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
        try:
            (objects,) = await dbus.call(ROOT, OBJECT_MANAGER, "GetManagedObjects")
        except DBusCallError as error:
            raise _error(error, errors.ModemNotFound, "will not list its modems") from None
        if not isinstance(objects, dict):
            raise errors.ModemFailed(f"ModemManager lists its modems as {type(objects).__name__}")
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
        return _error(error, errors.ConnectFailed)

    async def _bring_up(self, dbus, modem):
        props = await dbus.properties(modem, MODEM)
        if await self._unlock(dbus, props):
            props = await self._wait_until_unlocked(dbus, modem)
        if _state(props) < STATE_ENABLED:
            await dbus.call(modem, MODEM, "Enable", "b", [True])
        await self._wait_for_network(dbus, modem)
        bearer = await self._simple_connect(dbus, modem)
        self._interface = await self._wait_for_bearer(dbus, bearer)

    async def _unlock(self, dbus, props):
        """Send the PIN when the SIM asks for it (True then); raise when the modem cannot work."""
        _refuse_failed(props)
        lock = _number(props, "UnlockRequired")
        if lock == LOCK_SIM_PUK:
            raise errors.SimPinRequired("the SIM is blocked and asks for its PUK; unlock it in a phone")
        if lock in DEVICE_LOCKS:
            raise errors.SimError(f"the modem asks for its own unlock code ({DEVICE_LOCKS[lock]}): it is "
                                  f"locked to one operator; use that operator's SIM or an unlocked modem")
        if lock != LOCK_SIM_PIN:
            return False
        if not self.settings.pin:
            raise errors.SimPinRequired("the SIM asks for a PIN and none is configured")
        sim = props.get("Sim")
        if not isinstance(sim, str) or sim == "/":
            raise errors.ModemFailed("ModemManager asks for the PIN but names no SIM to send it to")
        where = (self.settings.bus_address, sim)
        pins.check_not_refused(where, self.settings.pin)
        try:
            await dbus.call(sim, SIM, "SendPin", "s", [self.settings.pin])
        except DBusCallError as error:
            if ERRORS.get(error.name) is errors.WrongPin:
                pins.refused(where, self.settings.pin)
            raise
        return True

    async def _wait_until_unlocked(self, dbus, modem):
        """The modem's properties once it has taken the PIN in: ModemManager says so a while later."""
        deadline = time.monotonic() + self.settings.command_timeout
        while True:
            props = await dbus.properties(modem, MODEM)
            if _state(props) >= STATE_DISABLED:
                return props
            _refuse_failed(props)
            if time.monotonic() > deadline:
                raise errors.LinkTimeout(f"the modem still asks for the PIN "
                                         f"{self.settings.command_timeout:g} s after taking it")
            await asyncio.sleep(POLL_SECONDS)

    async def _wait_for_network(self, dbus, modem):
        deadline = time.monotonic() + self.settings.register_timeout
        while True:
            props = await dbus.properties(modem, MODEM)
            if _state(props) >= STATE_REGISTERED:
                return
            _refuse_failed(props)
            registration = _number(await dbus.properties(modem, GPP), "RegistrationState")
            if registration == REGISTRATION_DENIED:
                raise errors.NoNetwork("the network denied registration (is the SIM active?)")
            if time.monotonic() > deadline:
                raise errors.NoNetwork(f"no network found within {self.settings.register_timeout:g} s"
                                       f" ({REGISTRATION.get(registration, 'unknown')})")
            await asyncio.sleep(POLL_SECONDS)

    async def _simple_connect(self, dbus, modem):
        operator_code = _text(await dbus.properties(modem, GPP), "OperatorCode")
        settings = self.settings
        properties = {
            "apn": settings.apn or apn.suggest_apn(settings, operator_code),
            "ip-type": IP_TYPES.get(settings.ip_type, IP_TYPES["ipv4"]),
        }
        if settings.user:
            properties.update(user=settings.user, password=settings.password)
        # ModemManager answers once the bearer is up (or has failed).
        reply = await dbus.call(modem, SIMPLE, "Connect", "a{sv}", [_variants(properties)],
                                timeout=settings.connect_timeout, timeout_error=errors.ConnectTimeout)
        if len(reply) != 1 or not isinstance(reply[0], str) or not reply[0].startswith("/"):
            raise errors.ModemFailed(f"ModemManager answered Simple.Connect with {reply!r}, not a bearer")
        return reply[0]

    async def _wait_for_bearer(self, dbus, bearer):
        async def connected():
            while True:
                props = await dbus.properties(bearer, BEARER)
                if props.get("Connected") is True:
                    return _text(props, "Interface")
                await asyncio.sleep(POLL_SECONDS)

        return await within(self.settings.connect_timeout, connected(),
                            "the data connection (bearer)", error=errors.ConnectTimeout)

    async def _read(self, dbus, modem):
        props = await dbus.properties(modem, MODEM)
        state = _state(props)
        gpp = await self._optional(dbus, modem, GPP)
        return LinkState(
            self.kind, present=True, sim=_sim_state(props),
            operator=_text(gpp, "OperatorName"), operator_code=_text(gpp, "OperatorCode"),
            registration=REGISTRATION.get(_number(gpp, "RegistrationState", None), ""),
            signal_percent=_signal_percent(props), signal_dbm=await self._signal_dbm(dbus, modem),
            technology=_technology(_number(props, "AccessTechnologies")),
            connected=state >= STATE_CONNECTED, interface=self._interface)

    async def _optional(self, dbus, modem, interface):
        """An interface's properties, {} when the modem has no such interface (yet)."""
        try:
            return await dbus.properties(modem, interface)
        except DBusCallError as error:
            log.info("no %s on %s: %s", interface, modem, error)
            return {}

    async def _signal_dbm(self, dbus, modem):
        """RSSI from the Signal interface, started on first use; None until the modem reports it."""
        try:
            signal = await dbus.properties(modem, SIGNAL)
            if not signal.get("Rate"):
                await dbus.call(modem, SIGNAL, "Setup", "u", [SIGNAL_RATE_SECONDS])
        except DBusCallError:
            return None  # a modem without extended signal information
        for source in SIGNAL_SOURCES:
            values = signal.get(source)
            rssi = values.get("rssi") if isinstance(values, dict) else None
            if isinstance(rssi, (int, float)) and math.isfinite(rssi) and not isinstance(rssi, bool):
                return round(rssi)
        return None


def _error(error, default, doing=""):
    """The LinkError a D-Bus error of ModemManager's stands for, with what the admin can do."""
    kind = ERRORS.get(error.name, default)
    hint = f"; {HINTS[error.name]}" if error.name in HINTS else ""
    doing = f" {doing}" if doing else ""
    return kind(f"ModemManager{doing}: {error.text or error.name}{hint}")


def _state(props):
    """The modem's MMModemState: the one property nothing can be decided without."""
    state = props.get("State")
    if isinstance(state, bool) or not isinstance(state, int):
        raise errors.ModemFailed(f"ModemManager gives the modem no usable State ({state!r}); "
                                 f"restart ModemManager or plug the modem in again")
    return state


def _refuse_failed(props):
    if _state(props) != STATE_FAILED:
        return
    reason = _number(props, "StateFailedReason")
    if reason == FAILED_SIM_MISSING:
        raise errors.SimMissing("no SIM card in the modem")
    if reason == FAILED_SIM_ERROR:
        raise errors.SimError("the SIM card failed (ModemManager: sim-error); put it in again or replace it")
    raise errors.ModemFailed(f"ModemManager cannot use the modem (failed: "
                             f"{FAILED_REASONS.get(reason, 'unknown')}); plug it in again")


def _number(props, name, default=0):
    """An integer property, `default` when it is missing or not an integer (logged)."""
    value = props.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        log.warning("ModemManager's %s is %r, not a number: ignored", name, value)
        return default
    return value


def _text(props, name):
    value = props.get(name, "")
    return value if isinstance(value, str) else ""


def _signal_percent(props):
    """SignalQuality (percent, recent): None unless ModemManager has a recent reading."""
    quality = props.get("SignalQuality")
    if isinstance(quality, (list, tuple)) and len(quality) == 2 and quality[1] is True \
            and isinstance(quality[0], int) and not isinstance(quality[0], bool):
        return max(0, min(100, quality[0]))
    return None


def _sim_state(props):
    if _state(props) == STATE_FAILED:
        return {FAILED_SIM_MISSING: "missing", FAILED_SIM_ERROR: "error"}.get(
            _number(props, "StateFailedReason"), "")
    lock = _number(props, "UnlockRequired")
    if lock in DEVICE_LOCKS:
        return "error"  # this SIM does not work in this modem
    return {LOCK_SIM_PIN: "pin-required", LOCK_SIM_PUK: "puk-required"}.get(lock, "ready")


def _technology(bits):
    return next((name for mask, name in TECHNOLOGIES if bits & mask), "")


def _variants(properties):
    kinds = {str: "s", int: "u"}
    return {key: Variant(kinds[type(value)], value) for key, value in properties.items()}
