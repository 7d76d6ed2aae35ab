"""The link the settings ask for; `auto` takes ModemManager when it is on the bus."""

from hardware import errors
from hardware.always_on import AlwaysOnLink
from hardware.at_link import AtLink
from hardware.dbus_client import DBusClient
from hardware.modemmanager import SERVICE, ModemManagerLink
from hardware.settings import check

LINKS = {"modemmanager": ModemManagerLink, "at": AtLink, "always-on": AlwaysOnLink}


async def make_link(settings):
    """A `Link` for `settings`; raises `LinkConfigError` for settings no link can use
    (a kind or IP type that does not exist, a PIN or APN a modem cannot take)."""
    check(settings)
    kind = settings.kind
    if kind == "auto":
        kind = "modemmanager" if await modemmanager_running(settings) else "always-on"
    return LINKS[kind](settings)


async def modemmanager_running(settings):
    try:
        dbus = await DBusClient.connect(settings.bus_address, SERVICE, settings.command_timeout)
    except errors.LinkError:
        return False  # no bus at all: no ModemManager either
    try:
        return await dbus.service_running()
    except errors.LinkError:
        return False
    finally:
        dbus.close()
