"""The relay's signed upload URLs take at most the size the box declared in its sync, with the
folder store and with Azure behind the relay (direct SAS URLs cannot say a size: takeover checks it)."""

import uuid

import pytest

from pouch import mime
from pouch.blobs import rest
from tests.pouch.test_blobs import block_id, call, with_query
from tests.relay.conftest import email_bytes

DECLARED = 1000


@pytest.fixture(params=["folder", "azure"])
def relay_overrides(request):
    if request.param == "folder":
        return {}
    # Azure behind the relay (the default): the relay's own handlers bound what reaches Azure.
    return {"storage_kind": "azure", "storage_azure_connection_string":
            request.getfixturevalue("azurite").connection_string,
            "storage_azure_container": f"relay-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def database_url(tmp_path):  # the database is not what this module is about
    return f"sqlite:///{tmp_path / 'relay.db'}"


async def put_block(relay, url, name, body):
    return await call(relay.http, "PUT", with_query(url, comp="block", blockid=block_id(name)), body,
                      headers={"Expect": "100-continue"})


async def put_block_list(relay, url, *names):
    body = rest.block_list_request([block_id(name) for name in names])
    return await call(relay.http, "PUT", with_query(url, comp="blocklist"), body)


@pytest.mark.gen_test(timeout=60)
async def test_an_upload_url_takes_no_more_than_the_declared_size(relay, tmp_path):
    box = await relay.register("goma")
    upload = (await box.sync(outgoing={"size": DECLARED}))["upload"]

    # 80 MiB in one block: refused from its Content-Length, before the body is read.
    flood = await put_block(relay, upload["url"], "b0", b"x" * (80 << 20))
    assert flood.code == 413 and b"declared for this upload" in flood.body
    for name in ("b1", "b2"):
        assert (await put_block(relay, upload["url"], name, b"x" * 600)).code == 201
    staged_over = await put_block(relay, upload["url"], "b3", b"x" * 900)
    assert staged_over.code == 409 and staged_over.headers["x-ms-error-code"] == "BlockCountExceedsLimit"
    listed_over = await put_block_list(relay, upload["url"], "b1", "b2")
    assert listed_over.code == 413 and b"over the 1000 bytes declared" in listed_over.body
    assert not await relay.store.exists(upload["name"])
    assert (await put_block_list(relay, upload["url"], "b1")).code == 201
    assert await relay.store.size(upload["name"]) == 600


@pytest.mark.gen_test(timeout=60)
async def test_an_upload_of_the_declared_size_still_goes_through(relay, tmp_path):
    box = await relay.register("goma")
    parsed = mime.parse(email_bytes("friend@example.com", sender="marie@goma.relay.test"), "up-1")
    name, answer = await box.send(tmp_path, [(parsed.record, parsed.blobs)])  # declares its exact size
    assert answer["accepted"] == [name]
