"""The ModemManager link against a ModemManager that misbehaves as real ones do: it leaves the
bus mid-connect, reports a modem failed or locked to an operator, gives properties of the wrong
type or none, says late that the PIN or the bearer took.  Each ends in an error class the admin
page explains, and the modem is brought down after a failed connect."""

import asyncio

import pytest

from hardware import (ConnectFailed, ConnectTimeout, LinkConfigError, ModemFailed, ModemVanished,
                      SimError, WrongPin)
from hardware.modemmanager import ModemManagerLink
from tests.hardware.conftest import ModemManagerMock
from tests.hardware.helpers import connecting, run
from tests.hardware.modemmanager_mock import MODEM_PATH, SIM_PATH
from tests.support import dbus as dbus_support


@pytest.fixture
def bus_to_kill(tmp_path, monkeypatch):
    """(dbus-daemon's process, its address): a private bus the test may stop."""
    daemon, address = dbus_support.start_bus(tmp_path)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
    yield daemon, address
    if daemon.poll() is None:
        dbus_support.stop(daemon)


def test_modemmanager_leaving_the_bus_mid_connect_is_a_vanished_modem(modemmanager):
    mock = modemmanager(Bearer="never")
    link = ModemManagerLink(mock.settings(connect_timeout=10))

    async def scenario():
        up = await connecting(link, mock)
        await asyncio.to_thread(mock.stop)  # ModemManager crashes while the bearer comes up
        with pytest.raises(ModemVanished, match="org.freedesktop.ModemManager1 left the bus"):
            await up
        return await link.state()

    state = run(scenario())
    assert not state.present and "ModemManager is not running" in state.last_error
    assert "left the bus" in link.last_connect.error


def test_the_bus_itself_stopping_mid_connect_is_noticed_at_once(bus_to_kill):
    daemon, address = bus_to_kill
    mock = ModemManagerMock(address, {"Bearer": "never"})
    link = ModemManagerLink(mock.settings(connect_timeout=60, command_timeout=60))  # past the test's

    async def scenario():
        up = await connecting(link, mock)
        daemon.kill()  # the system bus goes (dbus-daemon crashed, or restarted)
        with pytest.raises(ModemVanished, match="the D-Bus connection broke"):
            await up
        return await link.state()

    try:
        state = run(scenario())
    finally:
        mock.stop()
    assert not state.present and "cannot reach D-Bus" in state.last_error


@pytest.mark.parametrize("denied, doing", [("list", "will not list its modems: Rejected send message"),
                                           ("connect", "Not authorized to control the device")])
def test_a_service_not_allowed_to_drive_modems_is_told_so(modemmanager, denied, doing):
    mock = modemmanager(Denied=denied)
    link = ModemManagerLink(mock.settings())
    with pytest.raises(LinkConfigError, match=f"{doing}; the box's service may not drive modems"):
        run(link.up())  # not worth retrying: the sync stops at once
    state = run(link.state())
    assert "may not drive modems" in state.last_error  # what the admin page shows


def test_a_failed_connect_brings_the_modem_down(modemmanager):
    mock = modemmanager(Bearer="never")
    link = ModemManagerLink(mock.settings(connect_timeout=0.5))
    with pytest.raises(ConnectTimeout):
        run(link.up())  # as the sync job calls it: up, and down only once up
    assert mock.calls(MODEM_PATH, "Disconnect") == [["/"]]  # the bearer may still come up
    assert mock.calls(MODEM_PATH, "Enable")[-1] == [False]  # radio off


def test_a_bearer_refused_with_a_modemmanager_error_says_what_to_check(modemmanager):
    mock = modemmanager(Bearer="error:GprsMissingOrUnknownApn")
    link = ModemManagerLink(mock.settings())
    with pytest.raises(ConnectFailed, match="GprsMissingOrUnknownApn; check the APN on the modem page"):
        run(link.up())
    assert mock.calls(MODEM_PATH, "Enable")[-1] == [False]


@pytest.mark.parametrize("sim, error, reason, shown", [
    ("failed", ModemFailed, r"cannot use the modem \(failed: unknown\); plug it in again", ""),
    ("locked-to-network", SimError, r"\(ph-net-pin\): it is locked to one operator", "error"),
])
def test_a_modem_that_cannot_work_says_why(modemmanager, sim, error, reason, shown):
    mock = modemmanager(Sim=sim)
    link = ModemManagerLink(mock.settings())
    with pytest.raises(error, match=reason):
        run(link.up())
    state = run(link.state())
    assert state.present and state.sim == shown
    assert mock.calls(MODEM_PATH, "Connect") == []


@pytest.mark.parametrize("broken", ["no-state", "state-text"])
def test_a_modem_without_a_usable_state_is_reported_not_crashed_on(modemmanager, broken):
    mock = modemmanager(Broken=broken)
    link = ModemManagerLink(mock.settings())
    with pytest.raises(ModemFailed, match="no usable State"):
        run(link.up())
    state = run(link.state())
    assert state.present and "no usable State" in state.last_error


def test_properties_of_the_wrong_type_are_read_as_unknown(modemmanager):
    mock = modemmanager(Broken="wrong-types")  # SignalQuality a number, AccessTechnologies text
    link = ModemManagerLink(mock.settings())

    async def scenario():
        async with link.connected():
            return await link.state()

    state = run(scenario())
    assert state.connected and state.interface == "wwan0"
    assert (state.signal_percent, state.technology, state.sim) == (None, "", "ready")
    assert state.operator == "Vodacom CD"


@pytest.mark.parametrize("scenario", [dict(Pin="1234", Unlock="late"), dict(Bearer="late")])
def test_a_modem_that_reports_late_is_waited_for(modemmanager, scenario):
    mock = modemmanager(**scenario)
    link = ModemManagerLink(mock.settings(pin="1234", command_timeout=5, connect_timeout=5))

    async def scenario():
        async with link.connected():
            return await link.state()

    state = run(scenario())
    assert state.connected and state.interface == "wwan0"


def test_a_caller_giving_up_mid_connect_brings_the_modem_down(modemmanager):
    mock = modemmanager(Bearer="never")
    link = ModemManagerLink(mock.settings(connect_timeout=60))

    async def scenario():
        up = await connecting(link, mock)
        up.cancel()  # as the sync's watchdog does (asyncio.wait_for)
        with pytest.raises(asyncio.CancelledError):
            await up

    run(scenario())  # within the test's deadline, not the connect timeout
    assert mock.calls(MODEM_PATH, "Disconnect") == [["/"]]
    assert mock.calls(MODEM_PATH, "Enable")[-1] == [False]
    assert not link.last_connect.ok


def test_a_refused_pin_is_never_sent_again(modemmanager):
    mock = modemmanager(Pin="1234")
    for _attempt in range(3):  # the sync's retries, the next syncs, "test connection": each a new link
        with pytest.raises(WrongPin):
            run(ModemManagerLink(mock.settings(pin="0000")).up())
    assert mock.calls(SIM_PATH, "SendPin") == [["0000"]]  # two more and the SIM wants its PUK
    run(ModemManagerLink(mock.settings(pin="1234")).up())
    assert mock.calls(SIM_PATH, "SendPin") == [["0000"], ["1234"]]
