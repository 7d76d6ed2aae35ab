"""The ModemManager link against python-dbusmock's ModemManager on a private bus."""

import asyncio

import pytest

from hardware import (ConnectTimeout, LinkSettings, ModemNotFound, ModemVanished, NoNetwork, SimMissing,
                      SimPinRequired, WrongPin, make_link)
from hardware.modemmanager import ModemManagerLink
from tests.hardware.helpers import connecting, run
from tests.hardware.modemmanager_mock import MODEM_PATH, SIM_PATH


def test_connect_unlocks_the_sim_and_reports_the_link(modemmanager):
    mock = modemmanager(Pin="1234")
    link = ModemManagerLink(mock.settings(pin="1234", apn="vodanet", user="vodalive", password="x"))

    async def scenario():
        before = await link.state()
        await link.up()
        return before, await link.state()

    before, after = run(scenario())
    assert (before.present, before.sim, before.connected) == (True, "pin-required", False)
    assert mock.calls(SIM_PATH, "SendPin") == [["1234"]]
    (connect_properties,) = mock.calls(MODEM_PATH, "Connect")[0]
    assert connect_properties == {"apn": "vodanet", "ip-type": 1, "user": "vodalive", "password": "x"}
    assert after.connected and after.interface == "wwan0"
    assert (after.operator, after.operator_code, after.registration) == ("Vodacom CD", "63001", "home")
    assert (after.signal_percent, after.bars, after.signal_dbm) == (70, 3, -71)
    assert after.technology == "LTE"
    assert after.last_connect.ok and after.last_connect.seconds < 5


def test_down_disconnects_and_switches_the_radio_off(modemmanager):
    mock = modemmanager()
    link = ModemManagerLink(mock.settings())

    async def scenario():
        async with link.connected():
            pass
        return await link.state()

    state = run(scenario())
    assert not state.connected and state.interface == ""
    assert mock.calls(MODEM_PATH, "Disconnect") == [["/"]]
    assert mock.calls(MODEM_PATH, "Enable")[-1] == [False]


def test_wrong_pin_is_reported_as_such(modemmanager):
    mock = modemmanager(Pin="1234")
    link = ModemManagerLink(mock.settings(pin="0000"))
    with pytest.raises(WrongPin, match="Incorrect password"):
        run(link.up())
    state = run(link.state())
    assert state.sim == "pin-required" and "Incorrect password" in state.last_error
    assert not state.last_connect.ok
    assert mock.calls(MODEM_PATH, "Connect") == []


def test_a_locked_sim_without_a_configured_pin_says_so(modemmanager):
    mock = modemmanager(Pin="1234")
    with pytest.raises(SimPinRequired, match="none is configured"):
        run(ModemManagerLink(mock.settings()).up())


def test_missing_sim(modemmanager):
    mock = modemmanager(Sim="missing")
    link = ModemManagerLink(mock.settings())
    with pytest.raises(SimMissing):
        run(link.up())
    assert run(link.state()).sim == "missing"


@pytest.mark.parametrize("network, reason", [("searching", "no network found within 1 s"),
                                             ("denied", "denied registration")])
def test_no_network(modemmanager, network, reason):
    mock = modemmanager(Network=network)
    with pytest.raises(NoNetwork, match=reason):
        run(ModemManagerLink(mock.settings()).up())
    assert mock.calls(MODEM_PATH, "Connect") == []


@pytest.mark.parametrize("bearer", ["never", "hang"])
def test_a_bearer_that_never_connects_times_out(modemmanager, bearer):
    mock = modemmanager(Bearer=bearer)
    link = ModemManagerLink(mock.settings(connect_timeout=0.5, command_timeout=1.0))
    with pytest.raises(ConnectTimeout, match="within 0.5 s"):
        run(link.up())
    assert 0.5 <= link.last_connect.seconds < 3


def test_modem_unplugged_while_connecting(modemmanager):
    mock = modemmanager(Bearer="never")
    link = ModemManagerLink(mock.settings(connect_timeout=10))

    async def scenario():
        up = await connecting(link, mock)
        await asyncio.to_thread(mock.unplug)
        with pytest.raises(ModemVanished, match="disappeared"):
            await up
        return await link.state()

    state = run(scenario())
    assert not state.present and "no modem" in state.last_error
    assert link.last_connect.seconds < 5  # noticed at once, not at the connect timeout


def test_no_modemmanager_then_no_modem(modemmanager, private_bus):
    settings = LinkSettings(bus_address=private_bus, command_timeout=2)
    with pytest.raises(ModemNotFound, match="ModemManager is not running"):
        run(ModemManagerLink(settings).up())
    link = ModemManagerLink(modemmanager(NoModem=True).settings())
    with pytest.raises(ModemNotFound, match="sees no modem"):
        run(link.up())
    state = run(link.state())
    assert state.present is False and "sees no modem" in state.last_error


def test_auto_picks_modemmanager_only_when_it_is_on_the_bus(modemmanager, private_bus):
    settings = LinkSettings(kind="auto", bus_address=private_bus, command_timeout=2)
    assert run(make_link(settings)).kind == "always-on"
    modemmanager()
    assert run(make_link(settings)).kind == "modemmanager"
    without_bus = LinkSettings(kind="auto", bus_address="unix:path=/nonexistent/bus")
    assert run(make_link(without_bus)).kind == "always-on"
