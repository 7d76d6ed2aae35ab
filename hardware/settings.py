"""The link's settings: a plain dataclass, so `hardware` depends on no other
package.  The box fills it from the `[modem]` section of its settings file."""

import re
from dataclasses import dataclass
from pathlib import Path

from hardware.errors import LinkConfigError

KINDS = ("auto", "modemmanager", "at", "always-on")
IP_TYPES = ("ipv4", "ipv6", "ipv4v6")
PROVIDERS_FILE = Path("/usr/share/mobile-broadband-provider-info/serviceproviders.xml")
# 3GPP TS 23.003 section 9.1: an APN is labels of letters, digits and dashes (some operators'
# have underscores), at most 100 bytes; a SIM's PIN is 4 to 8 digits (TS 31.101).
APN = re.compile(r"[A-Za-z0-9._-]{0,100}")
PIN = re.compile(r"([0-9]{4,8})?")


@dataclass(frozen=True)
class LinkSettings:
    kind: str = "auto"  # auto: ModemManager when it is on the bus, else always-on
    apn: str = ""  # empty: suggested from the SIM's operator when known
    user: str = ""
    password: str = ""
    ip_type: str = "ipv4"
    pin: str = ""  # the SIM's PIN, when the SIM asks for one
    bus_address: str = ""  # D-Bus address of ModemManager's bus; empty: the system bus
    serial_port: str = "/dev/ttyUSB0"  # AT commands: the stick's modem port
    baud: int = 115200
    pppd: str = "pppd"  # command that takes the dialled line on its stdin
    interface: str = "ppp0"  # the interface pppd brings up
    check_host: str = ""  # a host:port answered when the link works (always-on checks it)
    check_port: int = 443
    command_timeout: float = 10.0  # one AT command or D-Bus call
    register_timeout: float = 60.0  # finding a network
    connect_timeout: float = 60.0  # from dialling to a working interface
    providers_file: Path = PROVIDERS_FILE  # Debian's mobile-broadband-provider-info


def check(settings):
    """Raise `LinkConfigError` for settings no link can use, before they reach a modem."""
    if settings.kind not in KINDS:
        raise LinkConfigError(f"unknown link kind '{settings.kind}' (one of {', '.join(KINDS)})")
    if settings.ip_type not in IP_TYPES:
        raise LinkConfigError(f"unknown ip_type '{settings.ip_type}' (one of {', '.join(IP_TYPES)})")
    if not PIN.fullmatch(settings.pin):
        raise LinkConfigError("the SIM's pin must be 4 to 8 digits")  # the PIN itself stays unsaid
    check_apn(settings.apn)


def check_apn(apn):
    if not APN.fullmatch(apn):
        raise LinkConfigError(f"the APN {apn[:100]!r} is not one: up to 100 letters, digits, dots, "
                              f"dashes and underscores")
