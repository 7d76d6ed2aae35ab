"""A revoked box's signed blob URLs stop working at `client revoke`, not when they expire."""

import pytest

from tests.pouch.test_blobs import call
from tests.relay.conftest import deliver
from tests.relay.test_blob_urls import put_block
from tests.relay.test_boxes import cli_env, run_cli  # noqa: F401  (a fixture, used by name)


@pytest.mark.gen_test(timeout=60)
async def test_a_revoked_boxs_download_and_upload_urls_are_refused_right_away(
        relay, cli_env, monkeypatch, capsys):  # noqa: F811
    box = await relay.register("bukavu")
    other = await relay.register("uvira")
    await deliver(relay, ["marie@bukavu.relay.test", "paul@uvira.relay.test"], subject="Before revoking")
    answer = await box.sync(outgoing={"size": 100})
    [offer], upload = answer["downloads"], answer["upload"]
    [kept] = (await other.sync())["downloads"]
    assert (await call(relay.http, "GET", offer["url"])).code == 200
    assert (await put_block(relay, upload["url"], "b1", b"x" * 10)).code == 201

    run_cli(cli_env, monkeypatch, capsys, "client", "revoke", "bukavu")

    download = await call(relay.http, "GET", offer["url"])
    staged = await put_block(relay, upload["url"], "b2", b"x" * 10)
    for answer in (download, staged):
        assert answer.code == 403 and b"no longer has access" in answer.body
    assert (await call(relay.http, "GET", kept["url"])).code == 200  # another box's URL still works
