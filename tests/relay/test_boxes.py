"""Boxes: the CLI creates them, a one-time code buys a token, revocation shuts them out."""

import json

import pytest
import sqlalchemy as sa

from relay import cli
from relay.schema import boxes


def run_cli(settings_env, monkeypatch, capsys, *argv):
    for name, value in settings_env.items():
        monkeypatch.setenv(name, value)
    cli.main(list(argv))
    return capsys.readouterr().out


@pytest.fixture
def cli_env(tmp_path, database_url, engine):
    from tests.relay.conftest import relay_environ
    return relay_environ(tmp_path / "relay", database_url, 8081)


def test_client_add_prints_a_code_that_registers_once(relay, cli_env, monkeypatch, capsys, io_loop):
    out = run_cli(cli_env, monkeypatch, capsys, "client", "add", "kinshasa")
    assert "kinshasa.relay.test" in out
    code = out.strip().rsplit(" ", 1)[-1]

    first = io_loop.run_sync(lambda: relay.post_json("/api/v1/register", {"code": code}))
    assert first.code == 200
    answer = json.loads(first.body)
    assert answer["box"] == "kinshasa" and answer["domain"] == "kinshasa.relay.test"
    second = io_loop.run_sync(lambda: relay.post_json("/api/v1/register", {"code": code}))
    assert second.code == 403 and "used" in json.loads(second.body)["error"]

    with relay.engine.connect() as db:
        stored = db.execute(sa.select(boxes.c.token_hash, boxes.c.registration_code_hash)).one()
    assert stored.token_hash and answer["token"] not in stored.token_hash
    assert stored.registration_code_hash is None
    listing = run_cli(cli_env, monkeypatch, capsys, "client", "list")
    assert "kinshasa" in listing and "registered" in listing


def test_duplicate_and_invalid_names_are_refused(relay, cli_env, monkeypatch, capsys):
    run_cli(cli_env, monkeypatch, capsys, "client", "add", "goma")
    for name in ("goma", "Not A Name"):
        with pytest.raises(SystemExit) as refused:
            run_cli(cli_env, monkeypatch, capsys, "client", "add", name)
        assert "goma" in str(refused.value) or "not a valid box name" in str(refused.value)


@pytest.mark.gen_test(timeout=30)
async def test_revoked_box_token_no_longer_syncs(relay, cli_env, monkeypatch, capsys):
    box = await relay.register("bukavu")
    await box.sync()
    run_cli(cli_env, monkeypatch, capsys, "client", "revoke", "bukavu")
    await box.sync(expect=401)
    assert "revoked" in run_cli(cli_env, monkeypatch, capsys, "client", "list")


@pytest.mark.gen_test(timeout=30)
async def test_sync_needs_a_valid_token(relay):
    await relay.register("kisangani")
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        response = await relay.request("/api/v1/sync", body="{}", headers=headers)
        assert response.code == 401
