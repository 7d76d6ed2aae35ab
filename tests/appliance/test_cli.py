"""`mailpouch-appliance user add`: the first admin is made on the command line."""

import os
import subprocess
import sys

from appliance.store import users
from tests.appliance.conftest import DOMAIN


def run_cli(box_settings, *args, password="a good password\n"):
    environ = {"MAILPOUCH_BOX_DOMAIN": DOMAIN, "MAILPOUCH_BOX_DATA_DIR": str(box_settings.box.data_dir),
               "PATH": os.environ.get("PATH", "")}
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], input=password, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_user_add_admin_creates_the_first_admin(box_settings, store):
    result = run_cli(box_settings, "user", "add", "admin", "--admin")
    assert result.returncode == 0, result.stderr
    assert f"created admin admin@{DOMAIN}" in result.stdout
    with store.read() as conn:
        user = users.authenticate(conn, f"admin@{DOMAIN}", "a good password")
    assert user["is_admin"]
    again = run_cli(box_settings, "user", "add", "admin")
    assert again.returncode != 0 and "already taken" in again.stderr
    short = run_cli(box_settings, "user", "add", "kito", password="short\n")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
