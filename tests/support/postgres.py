"""A private PostgreSQL cluster for the test session, from Debian's own binaries.

Fixture `postgres_url`: a fresh, empty database in that cluster per test.  The
cluster lives in a temporary folder, listens on a free port of 127.0.0.1 and
runs as the `postgres` user when the tests run as root (PostgreSQL refuses root).
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.support.azurite import free_port

START_SECONDS = 30


def binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; `make test` installs it)")
    return os.path.dirname(found[-1])


def as_cluster_owner(command):
    """Run ``command`` as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--"] + command


def _run(command):
    subprocess.run(as_cluster_owner(command), check=True, capture_output=True, timeout=START_SECONDS)


@pytest.fixture(scope="session")
def postgres_cluster():
    """(host, port) of a running private cluster; stopped and removed at the end of the session."""
    bin_dir = binaries()
    # Not under pytest's own temporary folder: that one is private to us, and
    # the cluster's owner must reach its folder.
    folder = Path(tempfile.mkdtemp(prefix="mailpouch-postgres-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        shutil.chown(folder, owner.pw_uid, owner.pw_gid)
    data = folder / "data"
    port = free_port()
    _run([f"{bin_dir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    _run([f"{bin_dir}/pg_ctl", "-D", str(data), "-w", "-t", str(START_SECONDS), "-l", str(folder / "log"),
          "-o", options, "start"])
    yield "127.0.0.1", port
    subprocess.run(as_cluster_owner([f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                   capture_output=True, timeout=START_SECONDS)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster):
    """The URL of a new empty database of the private cluster."""
    import psycopg2

    host, port = postgres_cluster
    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return f"postgresql+psycopg2://postgres@{host}:{port}/{name}"
