"""debian/ keeps up with the code: dependencies and settings files."""

import configparser
import re
from pathlib import Path

import pytest

from appliance import settings as box_settings
from relay import settings as relay_settings

PROJECT = Path(__file__).resolve().parents[2]
DEBIAN = PROJECT / "debian"
# PyPI name (lower case) -> the Debian package that provides it; None: bundled
# (debian/relay-vendor.txt) because bookworm lacks it.
DEBIAN_PACKAGES = {
    "tornado": "python3-tornado",
    "sqlalchemy": "python3-sqlalchemy",
    "alembic": "python3-alembic",
    "msgpack": "python3-msgpack",
    "zstandard": "python3-zstandard",
    "pillow": "python3-pil",
    "pycurl": "python3-pycurl",
    "pyserial": "python3-serial",
    "dbus-next": "python3-dbus-next",
    "azure-storage-blob": "python3-azure",
    "bleach": "python3-bleach",
    "babel": "python3-babel",
    "cryptography": "python3-cryptography",
    "aiosmtpd": "python3-aiosmtpd",
    "psycopg2-binary": "python3-psycopg2",
    "sendgrid": None,
    "imapclient": None,
}
# Needed by hardware/ only, which the relay package does not carry.
BOX_ONLY = {"pyserial", "dbus-next"}


def requirements(section, key):
    setup = configparser.ConfigParser()
    setup.read(PROJECT / "setup.cfg")
    lines = setup[section][key].splitlines()
    return [re.split(r"[<>=!~ ;\[]", line.strip())[0].lower() for line in lines if line.strip()]


def relations(package):
    """The Debian packages ``package`` depends on, recommends or suggests."""
    stanzas = (DEBIAN / "control").read_text().split("\n\n")
    stanza = next(text for text in stanzas if text.startswith(f"Package: {package}\n"))
    fields = re.findall(r"^(?:Depends|Recommends|Suggests):((?:.*\n?)(?:^ .*\n?)*)", stanza, re.M)
    return {item.split()[0] for field in fields for item in field.split(",") if item.strip()}


@pytest.mark.parametrize("package, needs", [
    ("mailpouch-appliance", requirements("options", "install_requires")),
    ("mailpouch-relay", [name for name in requirements("options", "install_requires")
                         if name not in BOX_ONLY] + requirements("options.extras_require", "relay")),
])
def test_every_python_requirement_comes_from_debian_or_is_bundled(package, needs):
    vendored = (DEBIAN / "relay-vendor.txt").read_text()
    for name in needs:
        assert name in DEBIAN_PACKAGES, (
            f"setup.cfg needs {name}: add its Debian package to debian/control and to this table")
        debian_name = DEBIAN_PACKAGES[name]
        if debian_name is None:
            assert package == "mailpouch-relay" and f"\n{name}==" in vendored
        elif name != "azure-storage-blob" or package == "mailpouch-relay":
            # The box reaches Azure through SAS URLs: the 540 MB SDK is only suggested.
            assert debian_name in relations(package), f"{package} lacks {debian_name}"


def test_the_shipped_settings_files_are_read_by_the_current_code():
    box = box_settings.load(DEBIAN / "conf/appliance.conf", environ={})
    assert (str(box.box.data_dir), box.web.host, box.web.port) == ("/var/lib/mailpouch", "0.0.0.0", 80)
    relay = relay_settings.load(DEBIAN / "conf/relay.conf", environ={})
    assert str(relay.relay.data_dir) == "/var/lib/mailpouch-relay"


def test_each_setting_in_the_shipped_files_is_explained():
    for name in ("appliance.conf", "relay.conf"):
        lines = (DEBIAN / "conf" / name).read_text().splitlines()
        for number, line in enumerate(lines):
            if "=" in line and not line.startswith("#"):
                previous = lines[number - 1]
                assert previous.startswith("#") or "=" in previous, f"{name}: {line} has no comment"
