"""Each side migrates its database, refuses to serve an out-of-date one, and serves."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tornado.testing import bind_unused_port

from pouch.runtime import logs

BIN = Path(sys.executable).parent

SIDES = {
    "appliance": ("mailpouch-appliance", "MAILPOUCH_BOX_DATA_DIR", "Sign in"),
    "relay": ("mailpouch-relay", "MAILPOUCH_RELAY_DATA_DIR", "relay for"),
}


def free_port():
    sock, port = bind_unused_port()
    sock.close()
    return port


def environment(tmp_path, data_variable, port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPOUCH_")}
    env.update({data_variable: str(tmp_path), "MAILPOUCH_WEB_PORT": str(port),
                "MAILPOUCH_APPLIANCE_CONFIG": "", "MAILPOUCH_RELAY_CONFIG": ""})
    return env


def run(command, env, *args):
    return subprocess.run([BIN / command, *args], env=env, capture_output=True, text=True, timeout=60)


def fetch_when_up(url, process, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.mark.parametrize("side", SIDES)
def test_serve_refuses_a_database_without_the_schema(tmp_path, side):
    command, data_variable, _ = SIDES[side]
    result = run(command, environment(tmp_path, data_variable, free_port()), "serve")
    assert result.returncode != 0
    assert f"run `{command} migrate` first" in result.stderr


@pytest.mark.parametrize("side", SIDES)
def test_migrate_then_serve(tmp_path, side):
    command, data_variable, greeting = SIDES[side]
    port = free_port()
    env = environment(tmp_path, data_variable, port)
    migrated = run(command, env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert run(command, env, "migrate").returncode == 0  # migrating twice is harmless
    process = subprocess.Popen([BIN / command, "serve"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert greeting in fetch_when_up(f"http://127.0.0.1:{port}/", process)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_log_lines_can_be_json_with_the_key_value_pairs_as_fields(tmp_path):
    port = free_port()
    env = environment(tmp_path, "MAILPOUCH_RELAY_DATA_DIR", port)
    assert run("mailpouch-relay", env, "migrate").returncode == 0
    process = subprocess.Popen([BIN / "mailpouch-relay", "--log-json", "serve"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        fetch_when_up(f"http://127.0.0.1:{port}/", process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert any("listening" in line["message"] and line["level"] == "INFO" for line in lines)

    record = logging.LogRecord("relay.sync", logging.INFO, __file__, 1,
                               "sync box=%s acked=%d reason=%r", ("goma", 2, "a 'quoted' reason"), None)
    fields = json.loads(logs.JsonFormatter().format(record))
    assert (fields["box"], fields["acked"], fields["logger"]) == ("goma", 2, "relay.sync")
    assert fields["reason"] == "a 'quoted' reason"
