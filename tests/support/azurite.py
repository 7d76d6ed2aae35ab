"""Fixture `azurite`: the real Azure Storage emulator (blob service) from npm.

`make test` installs it into node_modules/ from the committed lockfile; the
fixture skips with a clear reason where it is missing.  One instance serves
the whole session, on a free loopback port with its data in a temp folder.
"""

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = ROOT / "node_modules" / ".bin" / "azurite-blob"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10
# Azurite's well-known development account (public, documented by Microsoft).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")


@dataclass(frozen=True)
class Azurite:
    host: str
    port: int

    @property
    def blob_endpoint(self):
        return f"http://{self.host}:{self.port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self):
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};"
                f"AccountKey={ACCOUNT_KEY};BlobEndpoint={self.blob_endpoint};")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    if not AZURITE_BLOB.exists():
        pytest.skip(f"Azurite is not installed at {AZURITE_BLOB} (run `make test-deps`)")
    folder = tmp_path_factory.mktemp("azurite")
    port = free_port()
    log_path = folder / "azurite.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [AZURITE_BLOB, "--blobHost", "127.0.0.1", "--blobPort", str(port),
             "--location", folder, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, process, log_path)
        yield Azurite("127.0.0.1", port)
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(host, port, process, log_path, timeout_s=START_TIMEOUT_S):
    """Return once ``host:port`` accepts connections; fail if ``process`` dies or is slow."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Azurite exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"Azurite did not listen on {host}:{port} within {timeout_s} s")
