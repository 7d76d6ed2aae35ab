"""The AT-command link against sticks and ports that behave as real ones do: unsolicited lines
beside the answers, lines framed in CR alone or arriving a byte at a time, operator names in
UTF-8 among NUL bytes, SIMs and sticks asking for what a PIN cannot give, a port that floods,
settings a modem cannot take.  Each ends in an error of its class with a message an admin can act
on, and never shows the SIM's PIN."""

import asyncio
import tracemalloc

import pytest

from hardware import (ConnectFailed, ConnectTimeout, LinkConfigError, LinkSettings, LinkTimeout, ModemNotFound,
                      SimError, SimMissing, SimPinRequired, WrongPin, make_link)
from hardware.at_link import AtLink
from tests.hardware.helpers import run
from tests.hardware.test_at_link import PPP_FRAME, at_settings, fake_pppd  # noqa: F401 - a fixture

URCS = [b"\r\n+CREG: 1\r\n", b"\r\n+CGREG: 1\r\n", b'\r\n+CMTI: "SM",3\r\n', b"\r\nRING\r\n",
        b"\r\n^RSSI:17\r\n", b"\x00\x00"]
FLOOD_PEAK_BYTES = 1_000_000  # what reading a port may hold however much it floods


@pytest.mark.parametrize("framing, byte_by_byte", [(b"\r\n", False), (b"\r", True)])
def test_unsolicited_lines_with_the_answers_own_prefix_are_set_aside(odd_modem, fake_pppd, framing,
                                                                     byte_by_byte):
    odd_modem.chatter = URCS  # registration changing while the box asks about it
    odd_modem.framing, odd_modem.byte_by_byte = framing, byte_by_byte
    link = AtLink(at_settings(odd_modem, pppd=fake_pppd()), sys_net=fake_pppd.net, escape_guard=0.1)

    async def scenario():
        before = await link.state()
        async with link.connected():
            return before, await link.state()

    before, connected = run(scenario())
    assert before.last_error == ""
    assert (before.registration, before.operator, before.signal_percent) == ("home", "Vodacom CD", 55)
    assert connected.connected and odd_modem.data.startswith(PPP_FRAME)


def test_lines_a_stick_sends_as_it_boots_are_set_aside(odd_modem):
    odd_modem.chatter = [b"\r\nRDY\r\n", b"\r\n*EMRDY: 1\r\n", b"\r\n#QSS: 1\r\n", b"\r\nSMS DONE\r\n",
                         b"\r\nCall Ready\r\n", b"\r\nPB DONE\r\n"]  # Quectel, Sierra, Telit, SIMCom
    state = run(AtLink(at_settings(odd_modem)).state())
    assert state.last_error == ""
    assert (state.sim, state.registration, state.operator, state.signal_percent) == ("ready", "home",
                                                                                     "Vodacom CD", 55)


def test_an_old_stick_without_numeric_errors_that_keeps_echoing(odd_modem, fake_pppd):
    odd_modem.refused = {"AT+CMEE=1"}
    odd_modem.keep_echo = True
    odd_modem.sim = "locked"
    link = AtLink(at_settings(odd_modem, pin="1234", pppd=fake_pppd()), sys_net=fake_pppd.net,
                  escape_guard=0.1)

    async def scenario():
        async with link.connected():
            return await link.state()

    state = run(scenario())
    assert state.connected and state.operator == "Vodacom CD"


def test_an_operator_name_in_utf8_among_nul_bytes(odd_modem):
    odd_modem.operator = ("Moov Côte d'Ivoire", "61202", 7)
    odd_modem.before = {"AT+COPS?": b"\x00\xff\r\n\x00"}
    state = run(AtLink(at_settings(odd_modem)).state())
    assert (state.operator, state.operator_code, state.technology) == ("Moov Côte d'Ivoire", "61202", "LTE")


def test_the_pin_is_never_shown(odd_modem):
    odd_modem.sim = "locked"
    link = AtLink(at_settings(odd_modem, pin="9731"))
    with pytest.raises(WrongPin) as refused:
        run(link.up())
    assert 'AT+CPIN="****": +CME ERROR: 16' in str(refused.value)
    state = run(link.state())
    odd_modem.silent = {'AT+CPIN="8642"'}
    other = AtLink(at_settings(odd_modem, pin="8642"))
    with pytest.raises(LinkTimeout) as unanswered:
        run(other.up())
    assert "no reply from the modem" in str(unanswered.value)
    shown = [str(refused.value), str(unanswered.value), state.last_error, link.last_connect.error,
             other.last_connect.error]
    assert not any(pin in text for text in shown for pin in ("9731", "8642"))


@pytest.mark.parametrize("answer, error, reason, sim", [
    ("NOT INSERTED", SimMissing, r"no SIM card in the modem \(\+CPIN: NOT INSERTED\)", "missing"),
    ("SIM PUK", SimPinRequired, "blocked and asks for its PUK", "puk-required"),
    ("PH-NET PIN", SimError, r"asks for PH-NET PIN: .*locked to one operator", "error"),
])
def test_what_else_a_sim_asks_for_is_said_in_words(odd_modem, answer, error, reason, sim):
    odd_modem.cpin = answer
    link = AtLink(at_settings(odd_modem, pin="1234"))
    with pytest.raises(error, match=reason):
        run(link.up())
    assert run(link.state()).sim == sim
    assert not any(command.startswith(("AT+CPIN=", "ATD")) for command in odd_modem.commands)


def test_a_sim_asking_for_pin2_does_not_stop_the_link(odd_modem, fake_pppd):
    odd_modem.cpin = "SIM PIN2"
    link = AtLink(at_settings(odd_modem, pppd=fake_pppd()), sys_net=fake_pppd.net, escape_guard=0.1)

    async def scenario():
        async with link.connected():
            return await link.state()

    assert run(scenario()).connected


def test_a_locked_sim_still_shows_the_signal(odd_modem):
    odd_modem.sim = "locked"
    odd_modem.cops_needs_pin = True  # as most sticks answer +COPS before the PIN
    state = run(AtLink(at_settings(odd_modem)).state())
    assert state.last_error == ""
    assert (state.sim, state.signal_percent, state.bars) == ("pin-required", 55, 3)


@pytest.mark.parametrize("answer", ["BUSY", "NO CARRIER", "NO ANSWER"])
def test_a_refused_call_is_hung_up_and_said(odd_modem, fake_pppd, answer):
    odd_modem.dial_result = answer
    link = AtLink(at_settings(odd_modem, pppd=fake_pppd()), sys_net=fake_pppd.net, escape_guard=0.1)
    with pytest.raises(ConnectFailed, match=f"the modem answered {answer}"):
        run(link.up())
    assert not fake_pppd.arguments.exists()  # no pppd on a line that is no call


def test_a_dial_the_network_never_answers_is_a_connect_timeout(odd_modem, fake_pppd):
    odd_modem.silent = {"ATD*99***1#"}
    link = AtLink(at_settings(odd_modem, pppd=fake_pppd(), connect_timeout=0.5), sys_net=fake_pppd.net,
                  escape_guard=0.1)
    with pytest.raises(ConnectTimeout, match=r"ATD\*99\*\*\*1#: no reply from the modem within 0.5 s"):
        run(link.up())
    assert odd_modem.commands[-1] == "ATH"


@pytest.mark.parametrize("flood", ["lines", "binary"])
def test_a_port_that_floods_is_no_modem_and_costs_little_memory(flooding_port, flood):
    link = AtLink(LinkSettings(kind="at", serial_port=flooding_port(flood), command_timeout=1.0))
    tracemalloc.start()
    try:
        with pytest.raises(ModemNotFound, match="is serial_port the stick's modem port"):
            run(link.up())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < FLOOD_PEAK_BYTES
    state = run(link.state())
    assert not state.present or "modem port" in state.last_error


@pytest.mark.parametrize("setting, shown", [
    (dict(pin='12"34'), "pin must be 4 to 8 digits"),
    (dict(pin="123"), "pin must be 4 to 8 digits"),
    (dict(apn='vodanet";+CFUN=0'), "is not one"),
    (dict(apn="интернет"), "is not one"),
    (dict(kind="modemmanager", apn="web\r\nATH"), "is not one"),
])
def test_settings_a_modem_cannot_take_are_refused_before_it_gets_them(setting, shown):
    with pytest.raises(LinkConfigError, match=shown) as refused:
        run(make_link(LinkSettings(**{"kind": "at", **setting})))
    assert "12\"34" not in str(refused.value)


def test_an_apn_from_elsewhere_that_is_not_ascii_is_a_config_error(odd_modem, tmp_path):
    providers = tmp_path / "serviceproviders.xml"  # what the link is given to suggest from
    providers.write_text('<serviceproviders format="2.0"><country code="cd"><provider>'
                         '<name>Vodacom</name><gsm><network-id mcc="630" mnc="01"/>'
                         '<apn value="интернет"/></gsm></provider></country></serviceproviders>')
    link = AtLink(at_settings(odd_modem, providers_file=providers))
    with pytest.raises(LinkConfigError, match="is not one"):
        run(link.up())
    assert not any(command.startswith("ATD") for command in odd_modem.commands)


def test_a_caller_giving_up_mid_dial_hangs_up_and_frees_the_port(odd_modem, fake_pppd):
    odd_modem.silent = {"ATD*99***1#"}  # the network takes its time over the call
    link = AtLink(at_settings(odd_modem, pppd=fake_pppd(), connect_timeout=60), sys_net=fake_pppd.net,
                  escape_guard=0.1)

    async def scenario():
        dialling = asyncio.ensure_future(link.up())
        while "ATD*99***1#" not in odd_modem.commands:
            await asyncio.sleep(0.05)
        dialling.cancel()  # as the sync's watchdog does (asyncio.wait_for)
        with pytest.raises(asyncio.CancelledError):
            await dialling
        return list(odd_modem.commands), await link.state()

    commands, state = run(scenario())  # within the test's deadline, not the connect timeout
    assert commands[-1] == "ATH"  # hung up before up() returned
    assert state.present and state.operator == "Vodacom CD"  # read afresh: the port is free
    assert not link.last_connect.ok and "a caller's deadline" in link.last_connect.error
    assert not fake_pppd.arguments.exists()


def test_a_refused_pin_is_never_sent_again(odd_modem, fake_pppd):
    odd_modem.sim = "locked"
    for _attempt in range(3):  # the sync's retries, the next syncs, "test connection": each a new link
        with pytest.raises(WrongPin):
            run(AtLink(at_settings(odd_modem, pin="0000")).up())
    assert odd_modem.commands.count('AT+CPIN="0000"') == 1  # two more and the SIM wants its PUK
    with pytest.raises(WrongPin, match="not sent again .*set the right PIN"):
        run(AtLink(at_settings(odd_modem, pin="0000")).up())
    right = AtLink(at_settings(odd_modem, pin="1234", pppd=fake_pppd()), sys_net=fake_pppd.net,
                   escape_guard=0.1)

    async def scenario():  # the admin set the right one: it is tried
        async with right.connected():
            return await right.state()

    assert run(scenario()).connected and odd_modem.sim == "ready"
