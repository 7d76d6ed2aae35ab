"""Strict parsers for the information lines of the AT commands a link uses
(3GPP TS 27.007).  A reply that does not have the documented shape raises
`AtError` instead of being guessed at."""

import re

from hardware.errors import AtError

REGISTRATION = {0: "idle", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}
# +COPS access technology: 3GPP TS 27.007 section 7.3.
TECHNOLOGY = {0: "GSM", 1: "GSM", 2: "UMTS", 3: "EDGE", 4: "HSPA", 5: "HSPA", 6: "HSPA", 7: "LTE",
              13: "5G"}
# +CPIN answers (3GPP TS 27.007 section 8.3) as LinkState.sim; PIN2 guards no data.
CPIN = {"READY": "ready", "SIM PIN": "pin-required", "SIM PUK": "puk-required", "SIM PIN2": "ready",
        "SIM PUK2": "ready", "NOT INSERTED": "missing", "SIM NOT INSERTED": "missing", "NO SIM": "missing"}
CSQ_UNKNOWN = 99

_CSQ = re.compile(r"\+CSQ: *(\d+) *, *(\d+)$")
_REG = re.compile(r"\+C(?:G|E)?REG: *(\d+) *, *(\d+)(?:,.*)?$")
_CPIN = re.compile(r"\+CPIN: *(.+)$")
_COPS = re.compile(r'\+COPS: *(\d+)(?: *, *(\d+) *, *"([^"]*)"(?: *, *(\d+))?)?$')


def _match(pattern, lines, command):
    """The information line a query returns, in its documented shape.  An unsolicited line
    with the query's own prefix may come with it (`+CREG: 1` beside `+CREG: 0,1` while the
    registration changes; they differ in shape): the last line of the right shape is the answer."""
    prefix = command[2:].rstrip("?") + ":"  # AT+CREG? -> +CREG:
    found = [match for match in map(pattern.match, lines) if match]
    if not found or not all(line.startswith(prefix) for line in lines):
        raise AtError(command, f"an unexpected reply {lines!r}")
    return found[-1]


def signal_from_csq(lines):
    """(percent, dBm) from `+CSQ: <rssi>,<ber>`; (None, None) when the modem does not know."""
    rssi = int(_match(_CSQ, lines, "AT+CSQ").group(1))
    if rssi == CSQ_UNKNOWN:
        return None, None
    if rssi > 31:
        raise AtError("AT+CSQ", f"a signal level out of range ({rssi})")
    return round(rssi * 100 / 31), -113 + 2 * rssi


def registration(lines, command):
    """`home`, `roaming`, `searching`... from `+CREG: <n>,<stat>` (or +CGREG, +CEREG)."""
    stat = int(_match(_REG, lines, command).group(2))
    return REGISTRATION.get(stat, "unknown")


def sim_answer(lines):
    """What `+CPIN: <code>` says, e.g. `SIM PIN`, `PH-NET PIN` (the stick locked to an operator)."""
    return _match(_CPIN, lines, "AT+CPIN?").group(1).strip().upper()


def sim_state(lines):
    """ready, pin-required, puk-required, missing; error for what else the SIM or stick asks for."""
    return CPIN.get(sim_answer(lines), "error")


def operator(lines):
    """(name or code, technology) from `+COPS: <mode>,<format>,"<oper>",<AcT>`."""
    found = _match(_COPS, lines, "AT+COPS?")
    technology = TECHNOLOGY.get(int(found.group(4)), "") if found.group(4) else ""
    return found.group(3) or "", technology


def is_registered(state):
    return state in ("home", "roaming")
