"""`mailpouch-appliance setup-wifi`: an access point whose every name is the box."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import cli, wifi

PROJECT = Path(__file__).resolve().parents[2]
NAMES = ["connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com",
         "relay.example.org", "anything.at.all"]


def setup_wifi(root, *options):
    return cli.main(["setup-wifi", "--root", str(root), *options])


def test_writes_a_protected_access_point_and_a_portal_dns(tmp_path):
    setup_wifi(tmp_path, "--ssid", "Café Mail", "--passphrase", "correct horse", "--country", "CD")

    hostapd = tmp_path / "etc/hostapd/mailpouch.conf"
    lines = hostapd.read_text(encoding="utf-8").splitlines()
    assert {"interface=wlan0", "ssid=Café Mail", "utf8_ssid=1", "wpa=2",
            "wpa_passphrase=correct horse", "country_code=CD"} <= set(lines)
    assert hostapd.stat().st_mode & 0o077 == 0  # the passphrase is for root's eyes
    dnsmasq = (tmp_path / "etc/dnsmasq.d/mailpouch.conf").read_text().splitlines()
    assert "address=/#/10.42.0.1" in dnsmasq
    assert "dhcp-range=10.42.0.2,10.42.0.254,255.255.255.0,12h" in dnsmasq
    assert (tmp_path / "etc/mailpouch/wifi.env").read_text() == (
        "MAILPOUCH_WIFI_INTERFACE=wlan0\nMAILPOUCH_WIFI_ADDRESS=10.42.0.1/24\n")


def test_without_a_passphrase_the_network_is_open(tmp_path):
    setup_wifi(tmp_path, "--ssid", "Mail", "--interface", "wlan1", "--address", "192.168.50.1/24")
    lines = (tmp_path / "etc/hostapd/mailpouch.conf").read_text().splitlines()
    assert "wpa=0" in lines and "interface=wlan1" in lines
    assert not any(line.startswith("wpa_passphrase") for line in lines)
    assert "address=/#/192.168.50.1" in (tmp_path / "etc/dnsmasq.d/mailpouch.conf").read_text()


def test_network_manager_is_told_to_leave_the_device_alone_where_it_runs(tmp_path):
    (tmp_path / "etc/NetworkManager").mkdir(parents=True)
    setup_wifi(tmp_path, "--ssid", "Mail")
    assert (tmp_path / "etc/NetworkManager/conf.d/mailpouch-wifi.conf").read_text() == (
        "[keyfile]\nunmanaged-devices=interface-name:wlan0\n")


@pytest.mark.parametrize("options, complaint", [
    (["--ssid", "Mail", "--passphrase", "short"], "8 to 63"),
    (["--ssid", "x" * 33], "1 to 32 bytes"),
    (["--ssid", "two\nlines"], "printable"),
    (["--ssid", "Mail", "--interface", "wlan0; reboot"], "not a network interface"),
    (["--ssid", "Mail", "--address", "10.42.0.1"], "leaves no addresses"),
    (["--ssid", "Mail", "--address", "box"], "not an IPv4 address"),
    (["--ssid", "Mail", "--country", "congo"], "two-letter country code"),
])
def test_bad_settings_are_refused_and_nothing_is_written(tmp_path, capsys, options, complaint):
    with pytest.raises(SystemExit) as exit:
        setup_wifi(tmp_path, *options)
    assert complaint in str(exit.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("dnsmasq") or not shutil.which("unshare"),
                    reason="needs root, unshare and dnsmasq (Debian's dnsmasq-base)")
def test_every_name_resolves_to_the_box_through_a_real_dnsmasq(tmp_path):
    wifi.write(wifi.render("Mail", interface="wlan0", address="10.42.0.1/24"), tmp_path)
    # A network namespace of its own: a veth pair stands in for the radio.
    script = f"""
        ip link set lo up
        ip link add wlan0 type veth peer name client0
        ip addr add 10.42.0.1/24 dev wlan0
        ip link set wlan0 up; ip link set client0 up
        dnsmasq --keep-in-foreground --user=root --conf-file={tmp_path}/etc/dnsmasq.d/mailpouch.conf \
            --pid-file={tmp_path}/pid --dhcp-leasefile={tmp_path}/leases &
        {sys.executable} -m tests.debian.dns 10.42.0.1 {' '.join(NAMES)}
        kill $!
    """
    result = subprocess.run(["unshare", "--net", "sh", "-ec", script], cwd=PROJECT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{name} 10.42.0.1" for name in NAMES]
