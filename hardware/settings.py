"""The link's settings: a plain dataclass, so `hardware` depends on no other
package.  The box fills it from the `[modem]` section of its settings file."""

from dataclasses import dataclass
from pathlib import Path

KINDS = ("auto", "modemmanager", "at", "always-on")
IP_TYPES = ("ipv4", "ipv6", "ipv4v6")
PROVIDERS_FILE = Path("/usr/share/mobile-broadband-provider-info/serviceproviders.xml")


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
