"""The AT-command link against a Huawei stick simulated on a real pty, with a
stand-in pppd (a script that takes the line on its stdin as pppd does,
writes a PPP frame to it and makes an interface marker)."""

import sys
import textwrap
import threading

import pytest

from hardware import (ConnectFailed, ConnectTimeout, LinkSettings, LinkTimeout, ModemNotFound,
                      ModemVanished, NoNetwork, SimMissing, SimPinRequired, WrongPin)
from hardware.at_link import AtLink
from tests.hardware.helpers import run

PPP_FRAME = b"\x7e\xff\x7d\x23\xc0\x21"  # the start of an LCP Configure-Request
FAKE_PPPD = textwrap.dedent("""\
    import os, signal, sys, time
    net, arguments, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
    options = sys.argv[4:]
    open(arguments, "w").write("\\n".join(options))
    os.write(0, PPP_FRAME)  # stdin is the dialled line
    if status:
        sys.exit(status)
    interface = os.path.join(net, options[options.index("ifname") + 1])
    def stop(*_):
        if os.path.isdir(interface):
            os.rmdir(interface)
        sys.exit(5)
    signal.signal(signal.SIGTERM, stop)
    os.mkdir(interface)
    while True:
        time.sleep(1)
""").replace("PPP_FRAME", repr(PPP_FRAME))
NOISE = [b"\r\n^RSSI:17\r\n", b"\r\n^MODE:5,4\r\n", b"\xff\xfe\x00\x13", b"\r\nRING\r\n",
         b"\r\n^DSFLOWRPT:0000,0,0,0,0,0,0\r\n"]


@pytest.fixture
def fake_pppd(tmp_path):
    """`make(exit_status)`: link settings whose pppd is the stand-in script."""
    script = tmp_path / "fake-pppd.py"
    script.write_text(FAKE_PPPD)
    net = tmp_path / "net"
    net.mkdir()

    def make(exit_status=0):
        return f"{sys.executable} {script} {net} {tmp_path / 'pppd-arguments'} {exit_status}"

    make.net = net
    make.arguments = tmp_path / "pppd-arguments"
    return make


def at_settings(modem, **overrides):
    quick = dict(kind="at", serial_port=modem.port, command_timeout=1.0, register_timeout=1.5,
                 connect_timeout=2.0)
    return LinkSettings(**{**quick, **overrides})


def test_status_reads_the_modem_through_unsolicited_lines_and_noise(huawei_modem):
    huawei_modem.chatter = NOISE
    huawei_modem.slow = {"AT+CSQ": 0.4}
    state = run(AtLink(at_settings(huawei_modem)).state())
    assert state.present and state.sim == "ready" and not state.connected
    assert (state.operator, state.operator_code, state.registration) == ("Vodacom CD", "63001", "home")
    assert (state.signal_percent, state.signal_dbm, state.bars) == (55, -79, 3)
    assert state.technology == "UMTS"
    assert huawei_modem.commands[:2] == ["AT", "ATE0"]


def test_dial_hands_the_line_to_pppd_and_hangs_up(huawei_modem, fake_pppd):
    huawei_modem.sim = "locked"
    huawei_modem.chatter = NOISE
    settings = at_settings(huawei_modem, pin="1234", apn="vodanet", user="vodalive", password="pw",
                           pppd=fake_pppd(), interface="ppp7")
    link = AtLink(settings, sys_net=fake_pppd.net, escape_guard=0.2)

    async def scenario():
        await link.up()
        connected = await link.state()
        await link.down()
        return connected, await link.state()

    connected, after = run(scenario())
    assert connected.connected and connected.interface == "ppp7" and connected.operator == "Vodacom CD"
    assert 'AT+CPIN="1234"' in huawei_modem.commands
    assert huawei_modem.context == 'AT+CGDCONT=1,"IP","vodanet"'
    assert huawei_modem.data.startswith(PPP_FRAME)  # pppd spoke on the dialled line
    pppd_options = fake_pppd.arguments.read_text().split("\n")
    assert pppd_options[-4:] == ["user", "vodalive", "password", "pw"]
    after_dial = huawei_modem.commands[huawei_modem.commands.index("ATD*99***1#"):]
    assert "ATH" in after_dial and not huawei_modem.data_mode
    assert not (fake_pppd.net / "ppp7").exists()
    assert not after.connected and after.present
    assert after.last_connect.ok


def test_a_dropped_call_is_seen_and_dialled_again(huawei_modem, fake_pppd):
    link = AtLink(at_settings(huawei_modem, pppd=fake_pppd(), interface="ppp2"),
                  sys_net=fake_pppd.net, escape_guard=0.1)

    async def scenario():
        await link.up()
        (fake_pppd.net / "ppp2").rmdir()  # the interface went: the network dropped the call
        dropped = await link.state()
        async with link.connected():
            return dropped, await link.state()

    dropped, again = run(scenario())
    assert dropped.present and not dropped.connected
    assert again.connected
    assert huawei_modem.commands.count("ATD*99***1#") == 2


def test_apn_is_suggested_from_the_operator_when_not_configured(huawei_modem, fake_pppd, tmp_path):
    providers = tmp_path / "serviceproviders.xml"
    providers.write_text('<serviceproviders format="2.0"><country code="cd"><provider>'
                         '<name>Vodacom</name><gsm><network-id mcc="630" mnc="01"/>'
                         '<apn value="vodanet"><usage type="internet"/></apn></gsm>'
                         '</provider></country></serviceproviders>')
    link = AtLink(at_settings(huawei_modem, pppd=fake_pppd(), providers_file=providers),
                  sys_net=fake_pppd.net, escape_guard=0.1)

    async def scenario():
        async with link.connected():
            pass

    run(scenario())
    assert huawei_modem.context == 'AT+CGDCONT=1,"IP","vodanet"'


def test_no_carrier(huawei_modem, fake_pppd):
    huawei_modem.dial = "no carrier"
    link = AtLink(at_settings(huawei_modem, pppd=fake_pppd()), sys_net=fake_pppd.net, escape_guard=0.1)
    with pytest.raises(ConnectFailed, match="NO CARRIER"):
        run(link.up())
    assert not link.last_connect.ok and "NO CARRIER" in link.last_connect.error
    assert not fake_pppd.arguments.exists()


def test_pppd_failing_is_explained(huawei_modem, fake_pppd):
    link = AtLink(at_settings(huawei_modem, pppd=fake_pppd(exit_status=19)), sys_net=fake_pppd.net,
                  escape_guard=0.1)
    with pytest.raises(ConnectFailed, match="status 19: authentication failed"):
        run(link.up())
    assert huawei_modem.commands[-1] == "ATH"  # the call was hung up


def test_interface_that_never_comes_up_times_out(huawei_modem, fake_pppd):
    link = AtLink(at_settings(huawei_modem, pppd=fake_pppd(), interface="ppp1", connect_timeout=0.5),
                  sys_net=fake_pppd.net / "elsewhere", escape_guard=0.1)
    with pytest.raises(ConnectTimeout, match="ppp1 did not come up within 0.5 s"):
        run(link.up())


def test_missing_sim(huawei_modem):
    huawei_modem.sim = "missing"
    link = AtLink(at_settings(huawei_modem))
    with pytest.raises(SimMissing, match=r"no SIM card .*\+CME ERROR: 10"):
        run(link.up())
    assert run(link.state()).sim == "missing"


def test_pin(huawei_modem):
    huawei_modem.sim = "locked"
    with pytest.raises(SimPinRequired, match="none is configured"):
        run(AtLink(at_settings(huawei_modem)).up())
    with pytest.raises(WrongPin, match=r"\+CME ERROR: 16"):
        run(AtLink(at_settings(huawei_modem, pin="0000")).up())
    assert run(AtLink(at_settings(huawei_modem)).state()).sim == "pin-required"


@pytest.mark.parametrize("registration, reason", [(2, r"within 1.5 s \(searching\)"), (3, "denied")])
def test_no_network(huawei_modem, registration, reason):
    huawei_modem.registration = registration
    with pytest.raises(NoNetwork, match=reason):
        run(AtLink(at_settings(huawei_modem)).up())
    assert not any(command.startswith("ATD") for command in huawei_modem.commands)


def test_a_command_that_gets_no_reply_times_out(huawei_modem):
    huawei_modem.silent = {"AT+CSQ"}
    state = run(AtLink(at_settings(huawei_modem, command_timeout=0.5)).state())
    assert state.present and "AT+CSQ: no reply from the modem within 0.5 s" in state.last_error
    with pytest.raises(LinkTimeout, match="AT\\+CSQ"):
        run(AtLink(at_settings(huawei_modem, command_timeout=0.5)).up())


def test_a_port_without_a_modem(tmp_path, huawei_modem):
    state = run(AtLink(at_settings(huawei_modem, serial_port=str(tmp_path / "ttyUSB9"))).state())
    assert not state.present and "cannot open modem port" in state.last_error
    huawei_modem.silent = {"AT"}
    with pytest.raises(ModemNotFound, match="no modem answers"):
        run(AtLink(at_settings(huawei_modem, command_timeout=0.3)).up())


def test_modem_unplugged_mid_conversation(huawei_modem):
    huawei_modem.slow = {"AT+CGREG?": 1.0}
    unplug = threading.Timer(0.2, huawei_modem.unplug)
    unplug.start()
    try:
        with pytest.raises(ModemVanished, match="reading from .* failed"):
            run(AtLink(at_settings(huawei_modem, command_timeout=5.0)).up())
    finally:
        unplug.join()
