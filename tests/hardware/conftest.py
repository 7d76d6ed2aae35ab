"""Fixtures of the hardware tests: ModemManager (python-dbusmock) on a private bus."""

import subprocess
from pathlib import Path

import dbus
import pytest
from dbusmock import MOCK_IFACE
from dbusmock.testcase import BusType, SpawnedMock

from hardware import LinkSettings
from hardware.modemmanager import SERVICE

TEMPLATE = Path(__file__).with_name("modemmanager_mock.py")

class ModemManagerMock:
    """ModemManager with one Huawei stick; `scenario` as the template documents."""

    def __init__(self, address, scenario):
        self.address = address
        self.server = SpawnedMock.spawn_with_template(str(TEMPLATE), scenario, BusType.SYSTEM,
                                                      stdout=subprocess.DEVNULL)

    def settings(self, **overrides):
        quick = dict(kind="modemmanager", bus_address=self.address, command_timeout=2.0,
                     register_timeout=1.0, connect_timeout=1.0)
        return LinkSettings(**{**quick, **overrides})

    def calls(self, path, method):
        """Arguments of each call of `method` on the object at `path`, oldest first."""
        mock = dbus.Interface(self._bus().get_object(SERVICE, path), MOCK_IFACE)
        return [args for _when, args in mock.GetMethodCalls(method)]

    def unplug(self):
        self.server.obj.Unplug(dbus_interface=MOCK_IFACE)

    def _bus(self):
        return dbus.bus.BusConnection(self.address)


@pytest.fixture
def modemmanager(private_bus):
    """Start ModemManager's mock: `modemmanager(Pin="1234", Network="searching", ...)`."""
    started = []

    def start(**scenario):
        started.append(ModemManagerMock(private_bus, scenario))
        return started[-1]

    yield start
    for mock in started:
        mock.server.terminate()
