"""`mailpouch-appliance register` and `sync` as an operator runs them."""

import asyncio
import os
import stat
import sys

import pytest

from tests.relay.conftest import ROOT_DIR

TIMEOUT_S = 60


async def appliance(environ, *args):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "appliance.cli", *args, cwd=ROOT_DIR, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    return process.returncode, out.decode() + err.decode()


@pytest.mark.gen_test(timeout=120)
async def test_register_then_sync_from_the_command_line(relay, tmp_path):
    data_dir = tmp_path / "box"
    environ = dict(os.environ, MAILPOUCH_APPLIANCE_CONFIG="", MAILPOUCH_BOX_DATA_DIR=str(data_dir),
                   MAILPOUCH_BOX_DOMAIN="goma.relay.test", MAILPOUCH_MODEM_KIND="always-on",
                   MAILPOUCH_SYNC_BACKOFF_S="0.1")
    assert (await appliance(environ, "migrate"))[0] == 0

    code, output = await appliance(environ, "sync")
    assert code != 0 and "not registered" in output

    code, output = await appliance(environ, "register", relay.url, "not-a-code")
    assert code != 0 and "refused" in output

    code, output = await appliance(environ, "register", relay.url, relay.add_box("goma"))
    assert code == 0 and "goma.relay.test" in output, output
    token_file = data_dir / "relay-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    code, output = await appliance(environ, "sync", "--minutes", "1")
    assert code == 0 and "sync done" in output, output
