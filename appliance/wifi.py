"""`mailpouch-appliance setup-wifi`: make the box a Wi-Fi access point.

Writes hostapd's and dnsmasq's configuration from the templates in
appliance/data (every DNS name resolves to the box, so phones show the mail
page as the network's sign-in page: see appliance.web.portal), then starts the
access point (mailpouch-wifi.service, shipped in the .deb) and dnsmasq.
"""

import ipaddress
import re
import string
import subprocess
import sys
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "data"
INTERFACE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
# Files written, relative to the root folder; the hostapd one holds the passphrase.
HOSTAPD = Path("etc/hostapd/mailpouch.conf")
DNSMASQ = Path("etc/dnsmasq.d/mailpouch.conf")
ADDRESS_ENV = Path("etc/mailpouch/wifi.env")
NETWORK_MANAGER = Path("etc/NetworkManager/conf.d/mailpouch-wifi.conf")
START_COMMANDS = (
    ("systemctl", "enable", "--now", "mailpouch-wifi.service"),
    ("systemctl", "restart", "dnsmasq.service"),
)


class WifiError(ValueError):
    """A setting the access point cannot use."""


def add_command(commands):
    """The `setup-wifi` subcommand, on ``commands`` (argparse subparsers)."""
    wifi = commands.add_parser("setup-wifi", help="make this box a Wi-Fi access point "
                                                  "whose sign-in page is the mail page")
    wifi.add_argument("--ssid", required=True, help="the network's name")
    wifi.add_argument("--passphrase", help="WPA2 passphrase, 8 to 63 characters "
                                           "(default: an open network)")
    wifi.add_argument("--interface", default="wlan0", help="the Wi-Fi device (default: wlan0)")
    wifi.add_argument("--address", default="10.42.0.1/24",
                      help="the box's address and network on it (default: 10.42.0.1/24)")
    wifi.add_argument("--country", help="two-letter country code for the radio's rules, e.g. CD")
    wifi.add_argument("--channel", type=int, default=6, help="2.4 GHz channel, 1-13 (default: 6)")
    wifi.add_argument("--root", default="/",
                      help="write the files under this folder instead of / and start nothing")


def setup_command(_settings, args, command_name):
    """Run `setup-wifi`: write the files, then start the access point."""
    root = Path(args.root)
    try:
        files = render(args.ssid, args.passphrase, args.interface, args.address,
                       args.country, args.channel)
        written = write(files, root)
    except WifiError as error:
        sys.exit(f"{command_name} setup-wifi: {error}")
    except PermissionError as error:
        sys.exit(f"{command_name} setup-wifi: cannot write {error.filename}: run it with sudo")
    for path in written:
        print(f"wrote {path}")
    if root == Path("/"):
        start()
    print(f"Wi-Fi '{args.ssid}' is set up: phones that join it see the mail page.")


def render(ssid, passphrase=None, interface="wlan0", address="10.42.0.1/24",
           country=None, channel=6):
    """The configuration files' text, by path relative to the root folder."""
    network = _check(ssid, passphrase, interface, address, country, channel)
    values = {
        "ssid": ssid,
        "interface": interface,
        "channel": channel,
        "address": network.ip,
        "first": network.ip + 1,
        "last": network.network.broadcast_address - 1,
        "netmask": network.netmask,
        "country_lines": f"country_code={country}\nieee80211d=1" if country else "",
        "security_lines": _security(passphrase),
    }
    files = {
        HOSTAPD: _fill("hostapd.conf.in", values),
        DNSMASQ: _fill("dnsmasq.conf.in", values),
        ADDRESS_ENV: f"MAILPOUCH_WIFI_INTERFACE={interface}\nMAILPOUCH_WIFI_ADDRESS={network}\n",
    }
    # NetworkManager (Raspberry Pi OS) would otherwise take the device back.
    files[NETWORK_MANAGER] = f"[keyfile]\nunmanaged-devices=interface-name:{interface}\n"
    return files


def write(files, root):
    """Write ``files`` under ``root``; the paths written.  NetworkManager's
    file only where NetworkManager is installed."""
    written = []
    for relative, text in files.items():
        path = root / relative
        if relative == NETWORK_MANAGER and not path.parent.parent.is_dir():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600 if relative == HOSTAPD else 0o644)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def start():
    for command in START_COMMANDS:
        try:
            subprocess.run(command, check=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as error:
            sys.exit(f"could not run {' '.join(command)}: {error}")


def _check(ssid, passphrase, interface, address, country, channel):
    if not 1 <= len(ssid.encode("utf-8")) <= 32 or not ssid.isprintable():
        raise WifiError("the SSID must be 1 to 32 bytes of printable characters")
    if passphrase is not None and not (
            8 <= len(passphrase) <= 63 and passphrase.isascii() and passphrase.isprintable()):
        raise WifiError("the passphrase must be 8 to 63 printable ASCII characters")
    if not INTERFACE_NAME.match(interface):
        raise WifiError(f"'{interface}' is not a network interface name")
    if country is not None and not COUNTRY_CODE.match(country):
        raise WifiError(f"'{country}' is not a two-letter country code such as CD")
    if not 1 <= channel <= 13:
        raise WifiError("the channel must be between 1 and 13")
    try:
        network = ipaddress.IPv4Interface(address)
    except ValueError:
        raise WifiError(f"'{address}' is not an IPv4 address with its prefix, "
                        f"such as 10.42.0.1/24") from None
    if not 16 <= network.network.prefixlen <= 29 or network.ip in (
            network.network.network_address, network.network.broadcast_address - 1,
            network.network.broadcast_address):
        raise WifiError(f"{address} leaves no addresses for the clients: use e.g. 10.42.0.1/24")
    return network


def _security(passphrase):
    if passphrase is None:
        return "wpa=0"
    return f"wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase={passphrase}"


def _fill(template_name, values):
    template = string.Template((TEMPLATES / template_name).read_text(encoding="utf-8"))
    return template.substitute(values)
