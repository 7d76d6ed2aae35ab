"""python-dbusmock template: ModemManager with one Huawei stick (Modem,
Modem3gpp, Simple, Signal, Sim.SendPin, Bearer, Enable, registration).
Self-contained, since Debian bookworm's python-dbusmock (0.28.7) has no
`modemmanager` template.  Loaded by path into the mock's own process;
parameters choose the scenario:

  Pin      the SIM's PIN; the SIM starts locked when set
  Network  home | searching (never registers) | denied
  Bearer   connects | never (Simple.Connect returns, the bearer stays down)
           | hang (Simple.Connect answers only after 3 s, as when the network never answers)
           | late (connects a second after Simple.Connect answered)
           | error:NAME (Simple.Connect fails with MobileEquipment error NAME)
  Sim      present | missing | failed (StateFailedReason unknown) | locked-to-network (ph-net-pin)
  Unlock   at-once | late (the modem says it took the PIN a second after SendPin returned)
  Broken   a modem property gone or of the wrong D-Bus type: no-state | state-text | wrong-types
  Denied   list (the bus's policy refuses GetManagedObjects) | connect (polkit refuses Simple.Connect)
  NoModem  true: ModemManager runs but sees no modem
As ModemManager, the modem refuses Enable and Disconnect with WrongState while it is failed or
locked.
"""

import threading
import time

import dbus

from dbusmock import MOCK_IFACE, OBJECT_MANAGER_IFACE, mockobject

BUS_NAME = "org.freedesktop.ModemManager1"
MAIN_OBJ = "/org/freedesktop/ModemManager1"
MAIN_IFACE = BUS_NAME
SYSTEM_BUS = True
IS_OBJECT_MANAGER = False

MODEM = BUS_NAME + ".Modem"
SIMPLE = MODEM + ".Simple"
SIGNAL = MODEM + ".Signal"
GPP = MODEM + ".Modem3gpp"
SIM = BUS_NAME + ".Sim"
BEARER = BUS_NAME + ".Bearer"
MODEM_PATH = "/org/freedesktop/ModemManager1/Modem/0"
SIM_PATH = "/org/freedesktop/ModemManager1/SIM/0"
BEARER_PATH = "/org/freedesktop/ModemManager1/Bearer/0"
ME_ERROR = "org.freedesktop.ModemManager1.Error.MobileEquipment."
WRONG_STATE = "org.freedesktop.ModemManager1.Error.Core.WrongState"
UNAUTHORIZED = "org.freedesktop.ModemManager1.Error.Core.Unauthorized"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
LOCK_NONE, LOCK_SIM_PIN, LOCK_PH_NET_PIN = 1, 2, 8  # MMModemLock
LATE_SECONDS = 1.0
LTE = 1 << 14  # MMModemAccessTechnology
REGISTRATION = {"home": 1, "searching": 2, "denied": 3}
HANG_SECONDS = 3
SCENARIO = {}


class State:
    """MMModemState, the values this mock goes through."""

    STATE_FAILED = -1
    STATE_LOCKED = 2
    STATE_DISABLED = 3
    STATE_ENABLED = 6
    STATE_SEARCHING = 7
    STATE_REGISTERED = 8
    STATE_CONNECTED = 11


def load(mock, parameters):
    mock.AddMethods(MAIN_IFACE, [("ScanDevices", "", "", "")])
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({"Version": "1.20.4"}, signature="sv"))
    # ModemManager lists its modems (not SIMs or bearers) under .../Modem/N.
    SCENARIO.update(Pin="", Network="home", Bearer="connects", Sim="present", Unlock="at-once", Broken="",
                    Denied="")
    SCENARIO.update(parameters)
    listing = ("ret = {dbus.ObjectPath(k): objects[k].props for k in objects"
               " if k.startswith('/org/freedesktop/ModemManager1/Modem/')}")
    if SCENARIO["Denied"] == "list":
        listing = f"raise dbus.exceptions.DBusException('Rejected send message', name='{ACCESS_DENIED}')"
    mock.AddMethod(OBJECT_MANAGER_IFACE, "GetManagedObjects", "", "a{oa{sa{sv}}}", listing)
    if not SCENARIO.get("NoModem"):
        _add_modem(mock)


def _add_modem(mock):
    sim = SCENARIO["Sim"]
    network_lock = sim == "locked-to-network"
    locked = bool(SCENARIO["Pin"]) or network_lock
    missing = sim == "missing"
    failed = missing or sim == "failed"
    modem_props = {
        "State": dbus.Int32(State.STATE_FAILED if failed else
                            State.STATE_LOCKED if locked else State.STATE_DISABLED),
        "StateFailedReason": dbus.UInt32(2 if missing else 1 if failed else 0),
        "UnlockRequired": dbus.UInt32(LOCK_PH_NET_PIN if network_lock else
                                      LOCK_SIM_PIN if locked else LOCK_NONE),
        "Manufacturer": dbus.String("huawei"),
        "Model": dbus.String("E3131"),
        "AccessTechnologies": dbus.UInt32(0),
        "SignalQuality": dbus.Struct((dbus.UInt32(0), dbus.Boolean(False)), signature="ub"),
        "Sim": dbus.ObjectPath("/" if missing else SIM_PATH),
        "Bearers": dbus.Array([], signature="o"),
    }
    _break(modem_props)
    mock.AddObject(MODEM_PATH, MODEM, modem_props, [])
    modem = mockobject.objects[MODEM_PATH]
    modem.AddMethods(MODEM, [("Enable", "b", "", enable)])
    gpp_props = {"OperatorName": "", "OperatorCode": "", "RegistrationState": dbus.UInt32(0),
                 "Imei": "861234567890123"}
    modem.AddProperties(GPP, gpp_props)
    modem.AddMethods(SIMPLE, [("Connect", "a{sv}", "o", simple_connect),
                              ("Disconnect", "o", "", simple_disconnect)])
    signal_props = {"Rate": dbus.UInt32(0), "Lte": dbus.Dictionary({}, signature="sv")}
    modem.AddProperties(SIGNAL, signal_props)
    modem.AddMethods(SIGNAL, [("Setup", "u", "", signal_setup)])
    mock.AddObject(SIM_PATH, SIM, {"OperatorIdentifier": "63001", "OperatorName": "Vodacom CD"},
                   [("SendPin", "s", "", send_pin)])
    mock.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}", [
        dbus.ObjectPath(MODEM_PATH), {MODEM: modem_props, GPP: gpp_props, SIGNAL: signal_props}])


def _break(props):
    broken = SCENARIO["Broken"]
    if broken == "no-state":
        del props["State"]
    elif broken == "state-text":
        props["State"] = dbus.String("registered")
    elif broken == "wrong-types":
        props.update(SignalQuality=dbus.UInt32(70), AccessTechnologies=dbus.String("lte"),
                     UnlockRequired=dbus.String("none"))


def _later(action):
    """Do `action` a while after the call returns, as ModemManager reports some changes late.
    Only the property values change (no signal from this thread): the link polls."""
    threading.Timer(LATE_SECONDS, action).start()


def _refuse_unless_usable(modem):
    if modem.props[MODEM]["State"] < State.STATE_DISABLED:
        raise dbus.exceptions.DBusException("modem not ready", name=WRONG_STATE)


def _modem():
    return mockobject.objects[MODEM_PATH]


def _update(obj, interface, properties):
    """UpdateProperties as 0.28.7 cannot do it: it fails to wrap structs and dicts."""
    obj.props[interface].update(properties)
    obj.EmitSignal(dbus.PROPERTIES_IFACE, "PropertiesChanged", "sa{sv}as",
                   [interface, dbus.Dictionary(properties, signature="sv"), dbus.Array([], signature="s")])


def _error(name, text):
    return dbus.exceptions.DBusException(text, name=ME_ERROR + name)


def send_pin(_sim, pin):
    if pin != SCENARIO["Pin"]:
        raise _error("IncorrectPassword", "Incorrect password")
    unlocked = {"UnlockRequired": dbus.UInt32(LOCK_NONE), "State": dbus.Int32(State.STATE_DISABLED)}
    if SCENARIO["Unlock"] == "late":
        _later(lambda: _modem().props[MODEM].update(unlocked))
    else:
        _update(_modem(), MODEM, unlocked)


def enable(modem, on):
    if modem.Get(MODEM, "UnlockRequired") == LOCK_SIM_PIN:
        raise _error("SimPin", "SIM PIN required")
    _refuse_unless_usable(modem)
    if not on:
        _update(modem, MODEM, {"State": dbus.Int32(State.STATE_DISABLED),
                                       "SignalQuality": dbus.Struct((dbus.UInt32(0), dbus.Boolean(False)))})
        return
    network = SCENARIO["Network"]
    registered = network == "home"
    _update(modem, GPP, {
        "RegistrationState": dbus.UInt32(REGISTRATION[network]),
        "OperatorName": "Vodacom CD" if registered else "",
        "OperatorCode": "63001" if registered else ""})
    enabled = {
        "State": dbus.Int32(State.STATE_REGISTERED if registered else
                            State.STATE_SEARCHING if network == "searching" else State.STATE_ENABLED),
        "AccessTechnologies": dbus.UInt32(LTE if registered else 0),
        "SignalQuality": dbus.Struct((dbus.UInt32(70 if registered else 0), dbus.Boolean(True)))}
    _break(enabled)
    _update(modem, MODEM, enabled)


def simple_connect(modem, properties):
    if modem.Get(MODEM, "State") < State.STATE_REGISTERED:
        raise _error("NoNetwork", "No network service")
    if SCENARIO["Denied"] == "connect":
        raise dbus.exceptions.DBusException("Not authorized to control the device", name=UNAUTHORIZED)
    bearer = SCENARIO["Bearer"]
    if bearer == "hang":
        time.sleep(HANG_SECONDS)  # the whole mock stalls, as a busy ModemManager answers nothing
    if bearer.startswith("error:"):
        raise _error(bearer[len("error:"):], "")
    connects = bearer == "connects"
    mockobject.objects[MAIN_OBJ].AddObject(BEARER_PATH, BEARER, {
        "Connected": dbus.Boolean(connects), "Interface": "wwan0",
        "Properties": dbus.Dictionary(properties, signature="sv")}, [])
    _update(modem, MODEM, {"Bearers": dbus.Array([BEARER_PATH], signature="o")})
    if connects:
        _update(modem, MODEM, {"State": dbus.Int32(State.STATE_CONNECTED)})
    if bearer == "late":
        _later(lambda: _connect_late(modem))
    return dbus.ObjectPath(BEARER_PATH)


def _connect_late(modem):
    mockobject.objects[BEARER_PATH].props[BEARER]["Connected"] = dbus.Boolean(True)
    modem.props[MODEM]["State"] = dbus.Int32(State.STATE_CONNECTED)


def simple_disconnect(modem, _bearer):
    _refuse_unless_usable(modem)
    if BEARER_PATH in mockobject.objects:
        _update(mockobject.objects[BEARER_PATH], BEARER, {"Connected": dbus.Boolean(False)})
    if modem.Get(MODEM, "State") == State.STATE_CONNECTED:
        _update(modem, MODEM, {"State": dbus.Int32(State.STATE_REGISTERED)})


def signal_setup(modem, rate):
    lte = {"rssi": dbus.Double(-71.0), "rsrp": dbus.Double(-101.0)} if rate else {}
    _update(modem, SIGNAL, {"Rate": dbus.UInt32(rate),
                                    "Lte": dbus.Dictionary(lte, signature="sv")})


@dbus.service.method(MOCK_IFACE, in_signature="", out_signature="")
def Unplug(self):
    """The stick is pulled out: its objects go, as ModemManager removes them."""
    for path in (BEARER_PATH, SIM_PATH, MODEM_PATH):
        if path in mockobject.objects:
            self.RemoveObject(path)
    self.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                    [dbus.ObjectPath(MODEM_PATH), [MODEM, GPP, SIMPLE, SIGNAL]])
