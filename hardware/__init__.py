"""How a box gets online: ModemManager over D-Bus, AT commands over a serial
port, or a link that is always there.  Imports no other package of the project.

    link = await hardware.make_link(settings.modem)
    async with link.connected():
        ...  # sync
    state = await link.state()
"""

from hardware.errors import (AtError, ConnectFailed, ConnectTimeout, LinkConfigError, LinkError,
                             LinkTimeout, ModemFailed, ModemNotFound, ModemVanished, NoNetwork, SimError,
                             SimMissing, SimPinRequired, Unreachable, WrongPin)
from hardware.factory import make_link
from hardware.link import ConnectResult, Link, LinkState
from hardware.settings import LinkSettings

__all__ = [
    "AtError", "ConnectFailed", "ConnectResult", "ConnectTimeout", "Link", "LinkConfigError",
    "LinkError", "LinkSettings", "LinkState", "LinkTimeout", "ModemFailed", "ModemNotFound", "ModemVanished",
    "NoNetwork", "SimError", "SimMissing", "SimPinRequired", "Unreachable", "WrongPin", "make_link",
]
