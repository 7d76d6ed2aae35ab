"""Fixtures of the hardware tests: ModemManager (python-dbusmock) on a private bus."""

import subprocess
from pathlib import Path

import dbus
import pytest
from dbusmock import MOCK_IFACE
from dbusmock.testcase import DBusTestCase

from hardware import LinkSettings, pins
from hardware.modemmanager import SERVICE
from tests.hardware.odd_modem import flooding_port, odd_modem  # noqa: F401 - fixtures

TEMPLATE = Path(__file__).with_name("modemmanager_mock.py")
STOP_SECONDS = 5


class ModemManagerMock:
    """ModemManager with one Huawei stick; `scenario` as the template documents."""

    def __init__(self, address, scenario):
        self.address = address
        # spawn_server_template is what Debian bookworm's python-dbusmock (0.28.7) offers;
        # newer releases keep it.  It finds the bus in DBUS_SYSTEM_BUS_ADDRESS (private_bus sets it).
        self.process, self.main = DBusTestCase.spawn_server_template(
            str(TEMPLATE), scenario, stdout=subprocess.DEVNULL, system_bus=True)

    def settings(self, **overrides):
        quick = dict(kind="modemmanager", bus_address=self.address, command_timeout=2.0,
                     register_timeout=1.0, connect_timeout=1.0)
        return LinkSettings(**{**quick, **overrides})

    def calls(self, path, method):
        """Arguments of each call of `method` on the object at `path`, oldest first."""
        mock = dbus.Interface(self._bus().get_object(SERVICE, path), MOCK_IFACE)
        return [args for _when, args in mock.GetMethodCalls(method)]

    def unplug(self):
        self.main.Unplug(dbus_interface=MOCK_IFACE)

    def stop(self):
        self.process.terminate()
        self.process.wait(STOP_SECONDS)

    def _bus(self):
        return dbus.bus.BusConnection(self.address)


@pytest.fixture(autouse=True)
def new_sims():
    """Each test's modem is a new one: no PIN refused before."""
    pins.forget()


@pytest.fixture
def modemmanager(private_bus):
    """Start ModemManager's mock: `modemmanager(Pin="1234", Network="searching", ...)`."""
    started = []

    def start(**scenario):
        started.append(ModemManagerMock(private_bus, scenario))
        return started[-1]

    yield start
    for mock in started:
        mock.stop()
