"""The Azure REST subset as the folder store's handlers answer it, side by side
with Azurite where both must agree, and malformed requests."""

import asyncio

import pytest
import tornado.web
from tornado.httpclient import HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from pouch.blobs import FolderBlobStore, rest
from pouch.blobs.signing import load_or_create_key
from pouch.blobs.web import MAX_BLOCK_BYTES, blob_routes
from tests.pouch.test_blobs import (SIGNING_KEY, azure_store, block_id, call,  # noqa: F401
                                    folder_store, http_client, store, store_address, with_query)

pytestmark = pytest.mark.gen_test(timeout=60)


def error_code(answer):
    assert f"<Code>{answer.headers['x-ms-error-code']}</Code>".encode() in answer.body
    return answer.code, answer.headers["x-ms-error-code"]


async def stage(client, url, name, body):
    return await call(client, "PUT", with_query(url, comp="block", blockid=block_id(name)), body)


async def commit(client, url, *names):
    body = rest.block_list_request([block_id(name) for name in names])
    return await call(client, "PUT", with_query(url, comp="blocklist"), body)


async def test_ranges_as_azure_answers_them(store, http_client):
    await store.put_bytes("box/a", b"0123456789")
    url = store.download_url("box/a", 60)

    middle = await call(http_client, "GET", url, headers={"x-ms-range": "bytes=2-5"})
    tail = await call(http_client, "GET", url, headers={"Range": "bytes=7-"})
    whole = await call(http_client, "GET", url)
    beyond = await call(http_client, "GET", url, headers={"x-ms-range": "bytes=12-"})

    assert (middle.code, middle.body) == (206, b"2345")
    assert middle.headers["Content-Range"] == "bytes 2-5/10"
    assert (tail.code, tail.body, tail.headers["Content-Range"]) == (206, b"789", "bytes 7-9/10")
    assert (whole.code, whole.body) == (200, b"0123456789")
    assert error_code(beyond) == (416, "InvalidRange")


async def test_missing_blob_is_404_blob_not_found(store, http_client):
    answer = await call(http_client, "GET", store.download_url("box/none", 60))
    assert error_code(answer) == (404, "BlobNotFound")


async def test_blocks_count_only_once_committed(store, http_client):
    upload, download = store.upload_url("box/a", 60), store.download_url("box/a", 60)
    assert (await stage(http_client, upload, "b1", b"hello ")).code == 201
    assert (await stage(http_client, upload, "b2", b"world")).code == 201
    assert not await store.exists("box/a")
    assert (await call(http_client, "GET", download)).code == 404

    assert (await commit(http_client, upload, "b1", "b2", "b1")).code == 201
    assert await store.get_bytes("box/a") == b"hello worldhello "
    listed = await call(http_client, "GET",
                        with_query(upload, comp="blocklist", blocklisttype="all"))
    committed, uncommitted = rest.parse_block_list_response(listed.body)
    assert [(b.id, b.size) for b in committed] == [(block_id("b1"), 6), (block_id("b2"), 5),
                                                   (block_id("b1"), 6)]
    assert uncommitted == []


async def test_committing_an_unknown_block_is_refused(store, http_client):
    upload = store.upload_url("box/a", 60)
    await stage(http_client, upload, "b1", b"data")
    assert error_code(await commit(http_client, upload, "b1", "b9")) == (400, "InvalidBlockList")
    assert not await store.exists("box/a")


async def test_recommitting_keeps_committed_blocks(store, http_client):
    # Put Block List's <Latest> finds blocks committed earlier, as in Azure.
    upload = store.upload_url("box/a", 60)
    await stage(http_client, upload, "b1", b"one ")
    await stage(http_client, upload, "b2", b"two")
    await commit(http_client, upload, "b1", "b2")
    await stage(http_client, upload, "b3", b"three ")
    assert (await commit(http_client, upload, "b3", "b2")).code == 201
    assert await store.get_bytes("box/a") == b"three two"


@pytest.mark.parametrize("body, code", [
    (b"<BlockList><Latest>!!</Latest></BlockList>", "InvalidXmlDocument"),
    (b"<BlockList><Latest>", "InvalidXmlDocument"),
    (b"<Other/>", "InvalidXmlDocument"),
])
async def test_malformed_block_list_is_a_clear_400(folder_store, http_client, body, code):
    url = with_query(folder_store.upload_url("box/a", 60), comp="blocklist")
    assert error_code(await call(http_client, "PUT", url, body)) == (400, code)


async def test_bad_block_id_and_oversized_block_are_refused(folder_store, http_client):
    url = folder_store.upload_url("box/a", 60)
    bad_id = await call(http_client, "PUT",
                        with_query(url, comp="block", blockid="not base64!"), b"x")
    # With 100-continue the refusal comes before the body is sent, as a client would want.
    too_big = await call(http_client, "PUT", with_query(url, comp="block", blockid=block_id("b1")),
                         b"x" * (MAX_BLOCK_BYTES + 1), headers={"Expect": "100-continue"})
    not_a_number = await call(http_client, "PUT", with_query(url, comp="block", blockid=block_id("b1")), b"x",
                              headers={"Content-Length": "\u00b2"})  # "²": a digit to str.isdigit
    assert error_code(bad_id) == (400, "InvalidQueryParameterValue")
    assert error_code(too_big) == (413, "RequestBodyTooLarge")
    assert error_code(not_a_number) == (400, "InvalidHeaderValue")
    assert list((folder_store.root / ".staging").rglob("*.tmp")) == []
    # ... and the server still serves.
    assert (await stage(http_client, url, "b1", b"fine")).code == 201


async def test_staging_is_bounded_per_blob(folder_store, http_client):
    folder_store.max_staged_bytes = 10
    url = folder_store.upload_url("box/a", 60)
    assert (await stage(http_client, url, "b1", b"123456")).code == 201
    assert error_code(await stage(http_client, url, "b2", b"123456")) == (
        409, "BlockCountExceedsLimit")
    assert (await stage(http_client, url, "b1", b"1234567890")).code == 201  # replaces b1
    assert list((folder_store.root / ".staging").rglob("*.tmp")) == []


async def test_unsupported_operations_are_refused(folder_store, http_client):
    await folder_store.put_bytes("box/a", b"x")
    url = folder_store.download_url("box/a", 60)
    assert error_code(await call(http_client, "GET", with_query(url, comp="metadata")))[0] == 400
    assert error_code(await call(http_client, "DELETE", url))[0] == 405
    assert error_code(await call(http_client, "GET", url.split("?")[0]))[0] == 403


async def test_block_cut_off_midway_leaves_nothing_behind(folder_store, http_client, flaky_proxy):
    proxy = flaky_proxy(*store_address(folder_store))
    proxy.cut_after(5_000, direction="up")
    url = proxy.url(folder_store.upload_url("box/a", 60))
    with pytest.raises(HTTPClientError):
        await stage(http_client, url, "b1", b"x" * 20_000)
    staging = folder_store.root / ".staging"
    for _ in range(100):  # the server learns of the cut on its next read
        if not list(staging.rglob("*.tmp")):
            break
        await asyncio.sleep(0.02)
    assert list(staging.rglob("*")) == []


async def test_abandoned_blocks_are_discarded_after_a_while(folder_store, http_client):
    url = folder_store.upload_url("box/a", 60)
    await stage(http_client, url, "b1", b"abandoned")
    folder_store.discard_stale(max_age_s=3600)
    listed = with_query(url, comp="blocklist", blocklisttype="all")
    assert (await call(http_client, "GET", listed)).code == 200  # still fresh
    folder_store.discard_stale(max_age_s=-1)
    assert error_code(await call(http_client, "GET", listed)) == (404, "BlobNotFound")


def test_signing_key_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "blob-signing.key"
    key = load_or_create_key(path)
    assert len(key) >= 16
    assert load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("not hex")
    with pytest.raises(ValueError, match="signing key"):
        load_or_create_key(path)


async def test_an_upload_url_takes_no_more_than_the_size_it_was_signed_for(folder_store, http_client):
    url = folder_store.upload_url("box/a", 60, max_bytes=1000)
    # A block over the size is refused from its Content-Length, before its body is read.
    too_big = await call(http_client, "PUT", with_query(url, comp="block", blockid=block_id("b0")),
                         b"x" * 1001, headers={"Expect": "100-continue"})
    assert error_code(too_big) == (413, "RequestBodyTooLarge")
    assert "declared" in too_big.body.decode()
    for name in ("b1", "b2"):
        assert (await stage(http_client, url, name, b"x" * 600)).code == 201
    # Staged blocks stay within twice the size (room for blocks a drop made the box resend).
    assert error_code(await stage(http_client, url, "b3", b"x" * 900)) == (409, "BlockCountExceedsLimit")
    over = await commit(http_client, url, "b1", "b2")
    assert error_code(over) == (413, "RequestBodyTooLarge")
    assert "1200 bytes, over the 1000 bytes declared" in over.body.decode()
    assert not await folder_store.exists("box/a")
    assert (await commit(http_client, url, "b1")).code == 201
    assert await folder_store.get_bytes("box/a") == b"x" * 600


async def test_a_size_bound_cannot_be_changed_or_dropped_from_a_url(folder_store, http_client):
    url = folder_store.upload_url("box/a", 60, max_bytes=10)
    for tampered in (url.replace("sz=10", "sz=10000"), url.replace("sz=10&", ""),
                     url.replace("sz=10", "sz=-1")):
        answer = await stage(http_client, tampered, "b1", b"x" * 100)
        assert error_code(answer) == (403, "AuthenticationFailed")
    assert (await stage(http_client, url, "b1", b"x" * 10)).code == 201


async def test_blobs_the_relay_no_longer_allows_are_refused_at_once(folder_store, http_client):
    refused = set()
    sock, port = bind_unused_port()
    store = FolderBlobStore(folder_store.root, f"http://127.0.0.1:{port}/blobs", SIGNING_KEY)
    server = HTTPServer(tornado.web.Application(blob_routes(store, allowed=lambda name: name not in refused)))
    server.add_sockets([sock])
    try:
        await store.put_bytes("box/a", b"mail")
        download, upload = store.download_url("box/a", 60), store.upload_url("box/b", 60)
        assert (await call(http_client, "GET", download)).code == 200
        assert (await stage(http_client, upload, "b1", b"x")).code == 201
        refused.update({"box/a", "box/b"})
        assert error_code(await call(http_client, "GET", download)) == (403, "AuthenticationFailed")
        assert error_code(await stage(http_client, upload, "b2", b"x")) == (403, "AuthenticationFailed")
    finally:
        server.stop()
