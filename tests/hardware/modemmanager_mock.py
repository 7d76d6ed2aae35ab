"""python-dbusmock template: ModemManager with one Huawei stick, extended
with what the stock `modemmanager` template lacks (Modem.Simple, Bearer,
Signal, Sim.SendPin, Enable, registration).  Loaded by path into the mock's
own process; parameters choose the scenario:

  Pin      the SIM's PIN; the SIM starts locked when set
  Network  home | searching (never registers) | denied
  Bearer   connects | never (Simple.Connect returns, the bearer stays down)
           | hang (Simple.Connect answers only after 3 s, as when the network never answers)
  Sim      present | missing
  NoModem  true: ModemManager runs but sees no modem
"""

import time

import dbus

from dbusmock import MOCK_IFACE, OBJECT_MANAGER_IFACE, mockobject
from dbusmock.templates import modemmanager as stock

BUS_NAME = stock.BUS_NAME
MAIN_OBJ = stock.MAIN_OBJ
MAIN_IFACE = stock.MAIN_IFACE
SYSTEM_BUS = True
IS_OBJECT_MANAGER = False

MODEM = stock.MODEM_IFACE
SIMPLE = MODEM + ".Simple"
SIGNAL = MODEM + ".Signal"
GPP = stock.MODEM_3GPP_IFACE
SIM = stock.SIM_IFACE
BEARER = "org.freedesktop.ModemManager1.Bearer"
MODEM_PATH = "/org/freedesktop/ModemManager1/Modem/0"
SIM_PATH = "/org/freedesktop/ModemManager1/SIM/0"
BEARER_PATH = "/org/freedesktop/ModemManager1/Bearer/0"
ME_ERROR = "org.freedesktop.ModemManager1.Error.MobileEquipment."
State = stock.MMModemState
LOCK_NONE, LOCK_SIM_PIN = 1, 2
LTE = stock.MMModemAccesssTechnology.ACCESS_TECHNOLOGY_LTE
REGISTRATION = {"home": 1, "searching": 2, "denied": 3}
HANG_SECONDS = 3
SCENARIO = {}


def load(mock, parameters):
    stock.load(mock, parameters)
    # ModemManager lists its modems (not SIMs or bearers) under .../Modem/N.
    mock.AddMethod(OBJECT_MANAGER_IFACE, "GetManagedObjects", "", "a{oa{sa{sv}}}",
                   "ret = {dbus.ObjectPath(k): objects[k].props for k in objects"
                   " if k.startswith('/org/freedesktop/ModemManager1/Modem/')}")
    SCENARIO.update(Pin="", Network="home", Bearer="connects", Sim="present")
    SCENARIO.update(parameters)
    if not SCENARIO.get("NoModem"):
        _add_modem(mock)


def _add_modem(mock):
    locked = bool(SCENARIO["Pin"])
    missing = SCENARIO["Sim"] == "missing"
    modem_props = {
        "State": dbus.Int32(State.STATE_FAILED if missing else
                            State.STATE_LOCKED if locked else State.STATE_DISABLED),
        "StateFailedReason": dbus.UInt32(2 if missing else 0),
        "UnlockRequired": dbus.UInt32(LOCK_SIM_PIN if locked else LOCK_NONE),
        "Manufacturer": dbus.String("huawei"),
        "Model": dbus.String("E3131"),
        "AccessTechnologies": dbus.UInt32(0),
        "SignalQuality": dbus.Struct((dbus.UInt32(0), dbus.Boolean(False)), signature="ub"),
        "Sim": dbus.ObjectPath("/" if missing else SIM_PATH),
        "Bearers": dbus.Array([], signature="o"),
    }
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


def _modem():
    return mockobject.objects[MODEM_PATH]


def _error(name, text):
    return dbus.exceptions.DBusException(text, name=ME_ERROR + name)


def send_pin(_sim, pin):
    if pin != SCENARIO["Pin"]:
        raise _error("IncorrectPassword", "Incorrect password")
    _modem().UpdateProperties(MODEM, {"UnlockRequired": dbus.UInt32(LOCK_NONE),
                                      "State": dbus.Int32(State.STATE_DISABLED)})


def enable(modem, on):
    if modem.Get(MODEM, "UnlockRequired") == LOCK_SIM_PIN:
        raise _error("SimPin", "SIM PIN required")
    if not on:
        modem.UpdateProperties(MODEM, {"State": dbus.Int32(State.STATE_DISABLED),
                                       "SignalQuality": dbus.Struct((dbus.UInt32(0), dbus.Boolean(False)))})
        return
    network = SCENARIO["Network"]
    registered = network == "home"
    modem.UpdateProperties(GPP, {
        "RegistrationState": dbus.UInt32(REGISTRATION[network]),
        "OperatorName": "Vodacom CD" if registered else "",
        "OperatorCode": "63001" if registered else ""})
    modem.UpdateProperties(MODEM, {
        "State": dbus.Int32(State.STATE_REGISTERED if registered else
                            State.STATE_SEARCHING if network == "searching" else State.STATE_ENABLED),
        "AccessTechnologies": dbus.UInt32(LTE if registered else 0),
        "SignalQuality": dbus.Struct((dbus.UInt32(70 if registered else 0), dbus.Boolean(True)))})


def simple_connect(modem, properties):
    if modem.Get(MODEM, "State") < State.STATE_REGISTERED:
        raise _error("NoNetwork", "No network service")
    if SCENARIO["Bearer"] == "hang":
        time.sleep(HANG_SECONDS)  # the whole mock stalls, as a busy ModemManager answers nothing
    connects = SCENARIO["Bearer"] == "connects"
    mockobject.objects[MAIN_OBJ].AddObject(BEARER_PATH, BEARER, {
        "Connected": dbus.Boolean(connects), "Interface": "wwan0",
        "Properties": dbus.Dictionary(properties, signature="sv")}, [])
    modem.UpdateProperties(MODEM, {"Bearers": dbus.Array([BEARER_PATH], signature="o")})
    if connects:
        modem.UpdateProperties(MODEM, {"State": dbus.Int32(State.STATE_CONNECTED)})
    return dbus.ObjectPath(BEARER_PATH)


def simple_disconnect(modem, _bearer):
    if BEARER_PATH in mockobject.objects:
        mockobject.objects[BEARER_PATH].UpdateProperties(BEARER, {"Connected": dbus.Boolean(False)})
    if modem.Get(MODEM, "State") == State.STATE_CONNECTED:
        modem.UpdateProperties(MODEM, {"State": dbus.Int32(State.STATE_REGISTERED)})


def signal_setup(modem, rate):
    lte = {"rssi": dbus.Double(-71.0), "rsrp": dbus.Double(-101.0)} if rate else {}
    modem.UpdateProperties(SIGNAL, {"Rate": dbus.UInt32(rate),
                                    "Lte": dbus.Dictionary(lte, signature="sv")})


@dbus.service.method(MOCK_IFACE, in_signature="", out_signature="")
def Unplug(self):
    """The stick is pulled out: its objects go, as ModemManager removes them."""
    for path in (BEARER_PATH, SIM_PATH, MODEM_PATH):
        if path in mockobject.objects:
            self.RemoveObject(path)
    self.EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                    [dbus.ObjectPath(MODEM_PATH), [MODEM, GPP, SIMPLE, SIGNAL]])
