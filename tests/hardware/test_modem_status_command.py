"""`mailpouch-appliance modem status`: the admin page's modem facts, on a terminal."""

import json

import pytest

from appliance import cli


def modem_status(tmp_path, monkeypatch, capsys, modem_section, *options):
    config = tmp_path / "appliance.conf"
    config.write_text(f"[modem]\n{modem_section}")
    monkeypatch.setenv("MAILPOUCH_APPLIANCE_CONFIG", str(config))
    with pytest.raises(SystemExit) as exit:
        cli.main(["modem", "status", *options])
    return exit.value.code, capsys.readouterr().out


def test_status_of_an_at_modem(huawei_modem, tmp_path, monkeypatch, capsys):
    code, out = modem_status(tmp_path, monkeypatch, capsys,
                             f"kind = at\nserial_port = {huawei_modem.port}\ncommand_timeout = 2\n")
    assert code == 0
    assert out.splitlines() == [
        "link: at", "modem: found", "SIM: ready", "operator: Vodacom CD (63001), home",
        "signal: 3/4 bars, 55 %, -79 dBm", "technology: UMTS", "connected: no"]


def test_status_as_json_from_modemmanager(modemmanager, tmp_path, monkeypatch, capsys):
    mock = modemmanager(Pin="1234")
    code, out = modem_status(tmp_path, monkeypatch, capsys,
                             f"kind = auto\nbus_address = {mock.address}\n", "--json")
    state = json.loads(out)
    assert code == 0
    assert (state["kind"], state["present"], state["sim"]) == ("modemmanager", True, "pin-required")


def test_status_without_a_modem_fails(tmp_path, monkeypatch, capsys):
    code, out = modem_status(tmp_path, monkeypatch, capsys,
                             f"kind = at\nserial_port = {tmp_path / 'ttyUSB0'}\n")
    assert code == 1
    assert "modem: not found" in out and "last error: cannot open modem port" in out


def test_an_unknown_kind_is_a_clear_error(tmp_path, monkeypatch, capsys):
    code, _out = modem_status(tmp_path, monkeypatch, capsys, "kind = gsm\n")
    assert "unknown link kind 'gsm' (one of auto, modemmanager, at, always-on)" in code
