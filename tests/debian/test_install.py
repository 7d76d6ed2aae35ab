"""The packages in a clean Debian bookworm root: install, run, upgrade, purge.

Slow (debootstrap, apt) and needs root: `make deb-test` runs it after
`make deb`; a plain `make test` skips it.
"""

import os
import shlex
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tornado.testing import bind_unused_port

from tests.debian import chroot

PROJECT = Path(__file__).resolve().parents[2]
DEBS = Path(os.environ.get("MAILPOUCH_DEB_DIR", PROJECT / "var/deb"))
UNIT_DIR = "lib/systemd/system"
BOX_UNIT = f"{UNIT_DIR}/mailpouch-appliance.service"
UNITS = [BOX_UNIT, f"{UNIT_DIR}/mailpouch-wifi.service", f"{UNIT_DIR}/mailpouch-relay@8081.service"]
DATA = "var/lib/mailpouch"
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(
    os.environ.get("MAILPOUCH_DEB_TEST") != "1" or os.geteuid() != 0,
    reason="slow and needs root: run `make deb-test` (as root)")


@pytest.fixture(scope="module")
def root():
    cache = chroot.cache_folder(PROJECT)
    root = chroot.fresh_root(cache, PROJECT / "var/deb-test/root")
    chroot.in_root(root, "apt-get", "update", "-q", timeout=300)
    for deb in sorted(DEBS.glob("mailpouch-*_all.deb")):
        (root / "tmp" / deb.name).write_bytes(deb.read_bytes())
    yield root
    chroot.keep_downloads(cache, root)
    shutil.rmtree(root)


def install(root, package, *options):
    debs = [f"/tmp/{deb.name}" for deb in DEBS.glob(f"{package}_*_all.deb")]
    assert len(debs) == 1, f"expected one {package} .deb in {DEBS}: run `make deb`"
    return chroot.in_root(root, "apt-get", "install", "-y", "-q", *options, *debs, timeout=900)


def unit_setting(root, unit, key):
    for line in (root / unit).read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{unit} has no {key}=")


def owner_and_mode(root, path):
    return chroot.in_root(root, "stat", "-c", "%U:%G %a", path).stdout.strip()


def readable_by(root, user, path):
    return chroot.in_root(root, "cat", path, user=user, check=False).returncode == 0


def rows_in_database(root):
    """How many rows all the box's tables hold: data, whatever the schema."""
    script = ("import sqlite3; db = sqlite3.connect('/var/lib/mailpouch/mailpouch.db'); "
              "print(sum(db.execute(f'select count(*) from \"{name}\"').fetchone()[0] for (name,) in "
              "db.execute(\"select name from sqlite_master where type='table'\")))")
    return int(chroot.in_root(root, "python3", "-c", script).stdout)


def wait_for_page(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the box exited:\n{process.stdout.read()}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.geturl(), response.read().decode()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_the_box_installs_with_apt_from_debian_packages_only(root):
    result = install(root, "mailpouch-appliance")
    assert "pip" not in result.stdout
    users = chroot.in_root(root, "getent", "passwd", "mailpouch").stdout
    assert f":/{DATA}:" in users
    assert "mailpouch" in chroot.in_root(root, "getent", "group", "dialout").stdout
    # postinst migrated the database, as the service user.
    assert chroot.in_root(root, "stat", "-c", "%U %a", f"/{DATA}/mailpouch.db").stdout.split()[0] == "mailpouch"
    secret = root / "etc/mailpouch/cookie-secret.env"
    # Secrets (the cookie secret; the SIM PIN in the settings) are the box's and root's alone.
    for path in ("/etc/mailpouch/cookie-secret.env", "/etc/mailpouch/appliance.conf"):
        assert owner_and_mode(root, path) == "root:mailpouch 640"
        assert readable_by(root, "mailpouch", path) and not readable_by(root, "daemon", path)
    assert len(secret.read_text().strip().split("=", 1)[1]) >= 48
    conffiles = chroot.in_root(root, "dpkg-query", "-W", "-f=${Conffiles}", "mailpouch-appliance").stdout
    assert "/etc/mailpouch/appliance.conf" in conffiles
    assert (root / "etc/mailpouch/appliance.conf").read_text().count("\n#") >= 10
    assert (root / "usr/share/polkit-1/rules.d/50-mailpouch-modemmanager.rules").exists()


def test_the_daemon_starts_from_its_unit_and_shows_the_sign_in_page(root):
    command = shlex.split(unit_setting(root, BOX_UNIT, "ExecStart"))
    secret_file = root / unit_setting(root, BOX_UNIT, "EnvironmentFile").lstrip("/")
    environment = dict(line.split("=", 1) for line in secret_file.read_text().split())
    sock, port = bind_unused_port()
    sock.close()
    environment.update(MAILPOUCH_WEB_HOST="127.0.0.1", MAILPOUCH_WEB_PORT=str(port), LANG="C.UTF-8")
    process = chroot.start_in_root(root, command, unit_setting(root, BOX_UNIT, "User"), environment)
    try:
        url, page = wait_for_page(f"http://127.0.0.1:{port}/", process)
        assert url.endswith("/login") or "/login?" in url
        assert 'type="password"' in page
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode in (0, -15)


def test_an_upgrade_migrates_again_and_keeps_the_mail(root):
    chroot.in_root(root, "mailpouch-appliance", "--config", "/etc/mailpouch/appliance.conf",
                   "user", "add", "amani", user="mailpouch", input=f"{PASSWORD}\n")
    before = rows_in_database(root)
    assert before > 0
    # An admin's own choice of mode for the settings survives the upgrade.
    conf = "/etc/mailpouch/appliance.conf"
    chroot.in_root(root, "dpkg-statoverride", "--remove", conf)
    chroot.in_root(root, "dpkg-statoverride", "--update", "--add", "root", "mailpouch", "0440", conf)
    result = install(root, "mailpouch-appliance", "--reinstall")
    assert "is at the current schema" in result.stdout
    assert rows_in_database(root) == before
    assert owner_and_mode(root, conf) == "root:mailpouch 440"


def test_the_relay_installs_beside_the_box(root):
    # python3-azure (Recommends, 540 MB) is left out: only the azure store needs it.
    install(root, "mailpouch-relay", "--no-install-recommends")
    assert (root / "var/lib/mailpouch-relay/relay.db").exists()  # migrated: the relay read its settings
    # Its settings hold the SendGrid key, the webhook and operator passwords, the Azure connection string.
    conf = "/etc/mailpouch/relay.conf"
    assert owner_and_mode(root, conf) == "root:mailpouch-relay 640"
    assert not readable_by(root, "mailpouch", conf) and not readable_by(root, "daemon", conf)
    usage = chroot.in_root(root, "mailpouch-relay", "--help").stdout
    assert "client" in usage
    chroot.in_root(root, "python3", "-c", "import sys; sys.path.insert(0, '/usr/share/mailpouch-relay'); "
                   "import relay.outbound.transports")


def test_the_units_pass_systemd_analyze_verify(root):
    result = chroot.in_root(root, "systemd-analyze", "verify", *(f"/{unit}" for unit in UNITS), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mailpouch" not in result.stderr, result.stderr


def test_lintian_is_clean_apart_from_documented_overrides():
    changes = sorted(DEBS.glob("mailpouch_*.changes"))
    assert changes, f"no .changes in {DEBS}: run `make deb`"
    result = chroot.run(["lintian", "--fail-on", "error,warning", str(changes[-1])], timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_remove_keeps_the_mail_and_purge_removes_it(root):
    chroot.in_root(root, "apt-get", "remove", "-y", "-q", "mailpouch-appliance", timeout=300)
    assert (root / DATA / "mailpouch.db").exists()
    assert (root / "etc/mailpouch/appliance.conf").exists()
    chroot.in_root(root, "apt-get", "purge", "-y", "-q", "mailpouch-appliance", timeout=300)
    assert not (root / DATA).exists()
    assert not (root / "etc/mailpouch/appliance.conf").exists()
    assert not (root / "etc/mailpouch/cookie-secret.env").exists()
    overrides = chroot.in_root(root, "dpkg-statoverride", "--list").stdout
    assert "appliance.conf" not in overrides and "relay.conf" in overrides
    assert (root / "etc/mailpouch/relay.conf").exists()  # the relay's, still installed


def test_purging_the_relay_removes_its_data_and_the_settings_folder(root):
    chroot.in_root(root, "apt-get", "purge", "-y", "-q", "mailpouch-relay", timeout=300)
    assert not (root / "var/lib/mailpouch-relay").exists()
    assert not (root / "etc/mailpouch").exists()
    assert "relay.conf" not in chroot.in_root(root, "dpkg-statoverride", "--list", check=False).stdout
