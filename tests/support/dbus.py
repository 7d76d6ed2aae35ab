"""A private D-Bus daemon per test, so tests never touch the machine's buses.

Fixture `private_bus`: the address of a fresh `dbus-daemon`, also exported as
DBUS_SYSTEM_BUS_ADDRESS for the test (python-dbusmock reads it from there)."""

import selectors
import shutil
import subprocess

import pytest

START_SECONDS = 10
CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def start_bus(folder):
    """Start `dbus-daemon` listening in `folder`; return (process, address)."""
    if not shutil.which("dbus-daemon"):
        pytest.skip("dbus-daemon is not installed (Debian package dbus)")
    config = folder / "bus.conf"
    config.write_text(CONFIG.format(socket=folder / "bus"))
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"],
                              stdout=subprocess.PIPE, text=True)
    with selectors.DefaultSelector() as selector:
        selector.register(daemon.stdout, selectors.EVENT_READ)
        ready = selector.select(START_SECONDS)
    address = daemon.stdout.readline().strip() if ready else ""
    if not address:
        stop(daemon)
        raise RuntimeError(f"dbus-daemon did not start within {START_SECONDS} s")
    return daemon, address


def stop(daemon, seconds=5):
    daemon.kill()  # a throwaway bus keeps nothing worth a clean shutdown
    daemon.wait(seconds)


@pytest.fixture
def private_bus(tmp_path_factory, monkeypatch):
    daemon, address = start_bus(tmp_path_factory.mktemp("dbus"))
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
    yield address
    stop(daemon)
