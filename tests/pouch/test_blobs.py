"""Blob stores and the box's resumable transfers, against real servers:
Azurite for the Azure store, a Tornado server on a free port for the folder store."""

import base64
import hashlib
import urllib.parse
import uuid

import pytest
import tornado.web
from tornado.curl_httpclient import CurlAsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from pouch.blobs import BlobNotFound, FolderBlobStore, InvalidBlobName, rest
from pouch.blobs.azure import AzureBlobStore
from pouch.blobs.transfer import (BlobTransfer, ChecksumMismatch, PermanentTransferError,
                                  TemporaryTransferError, block_id_for)
from pouch.blobs.web import blob_routes

SIGNING_KEY = b"a test key of at least 16 bytes"
TEST_TIMEOUT_S = 60
HEADER_ALLOWANCE = 1500  # bytes of request or answer head per request, signed URL included
BLOCK = 16 * 1024

pytestmark = pytest.mark.gen_test(timeout=TEST_TIMEOUT_S)


# -- fixtures ---------------------------------------------------------------------


@pytest.fixture
def folder_store(io_loop, tmp_path):
    """A FolderBlobStore served by a real Tornado server on a free port."""
    sock, port = bind_unused_port()
    store = FolderBlobStore(tmp_path / "blobs", f"http://127.0.0.1:{port}/blobs", SIGNING_KEY)
    # XSRF checks on, as the relay's own forms want them: blob URLs must not care.
    app = tornado.web.Application(blob_routes(store), xsrf_cookies=True, cookie_secret="s")
    server = HTTPServer(app)
    server.add_sockets([sock])
    io_loop.run_sync(store.prepare)
    yield store
    server.stop()
    io_loop.run_sync(server.close_all_connections)


@pytest.fixture
def azure_store(io_loop, azurite):
    """An AzureBlobStore on a fresh container of the session's Azurite."""
    store = AzureBlobStore(azurite.connection_string, f"test-{uuid.uuid4().hex}")
    io_loop.run_sync(store.prepare)
    yield store
    store.container.delete_container()


@pytest.fixture(params=["folder", "azure"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def http_client(io_loop):
    client = CurlAsyncHTTPClient(force_instance=True)
    yield client
    client.close()


def make_transfer(http_client, block_size=BLOCK):
    return BlobTransfer(http_client, block_size=block_size, range_size=4 * BLOCK,
                        min_block_size=BLOCK // 4, connect_timeout_s=5, request_timeout_s=20)


@pytest.fixture
def transfer(http_client):
    return make_transfer(http_client)


def content(size, seed=b"mail"):
    """``size`` reproducible bytes that do not repeat in block-sized runs."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def outgoing(tmp_path, size):
    """(bytes, path) of a file of ``size`` content bytes to upload."""
    data = content(size)
    source = tmp_path / "out.pouch"
    source.write_bytes(data)
    return data, source


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def store_address(store):
    url = urllib.parse.urlsplit(store.download_url("x", 60))
    return url.hostname, url.port


async def call(client, method, url, body=None, headers=None):
    """One raw request; the answer whatever its status."""
    return await client.fetch(url, method=method, body=body, headers=headers,
                              raise_error=False, request_timeout=10)


def with_query(url, **params):
    return f"{url}&{urllib.parse.urlencode(params)}"


def assert_bad_signature(answer):
    # Azure says AuthenticationFailed, Azurite AuthorizationFailure for some cases.
    assert answer.code == 403
    assert answer.headers["x-ms-error-code"] in ("AuthenticationFailed", "AuthorizationFailure")


def block_id(text):
    return base64.b64encode(text.encode()).decode()


def dead_url():
    sock, port = bind_unused_port()
    sock.close()  # nothing listens there now
    return f"http://127.0.0.1:{port}/blobs/a?sp=cw"


async def committed_sizes(client, url):
    """Sizes of the blocks the blob of upload ``url`` is made of, in order."""
    answer = await call(client, "GET", with_query(url, comp="blocklist", blocklisttype="committed"))
    committed, _ = rest.parse_block_list_response(answer.body)
    return [block.size for block in committed]


# -- the store interface ---------------------------------------------------------------


async def test_store_keeps_lists_and_deletes_blobs(store, tmp_path):
    source = tmp_path / "outgoing.pouch"
    source.write_bytes(content(70_000))
    await store.put_file("box1/up/1.pouch", source)
    await store.put_bytes("box1/down/2.pouch", b"incoming")
    await store.put_bytes("box2/down/3.pouch", b"other box")

    assert await store.list("box1/") == ["box1/down/2.pouch", "box1/up/1.pouch"]
    assert await store.list("box1/do") == ["box1/down/2.pouch"]
    assert await store.list("box") == ["box1/down/2.pouch", "box1/up/1.pouch", "box2/down/3.pouch"]
    assert await store.list("../") == []
    assert await store.size("box1/up/1.pouch") == 70_000
    assert await store.get_bytes("box1/down/2.pouch") == b"incoming"
    await store.get_file("box1/up/1.pouch", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == source.read_bytes()

    assert await store.delete("box1/down/2.pouch") is True
    assert await store.delete("box1/down/2.pouch") is False
    assert not await store.exists("box1/down/2.pouch")
    with pytest.raises(BlobNotFound):
        await store.get_bytes("box1/down/2.pouch")
    with pytest.raises(BlobNotFound):
        await store.size("box1/down/2.pouch")


@pytest.mark.parametrize("name", ["../etc/passwd", ".staging/x", "a//b", "", "a b", "x/"])
async def test_store_refuses_unsafe_names(folder_store, name):
    with pytest.raises(InvalidBlobName):
        await folder_store.put_bytes(name, b"x")
    with pytest.raises(InvalidBlobName):
        folder_store.upload_url(name, 60)


# -- URL scoping ----------------------------------------------------------------------------


async def test_download_url_reads_but_cannot_write(store, http_client):
    await store.put_bytes("box/a.pouch", b"original")
    url = store.download_url("box/a.pouch", 60)

    assert (await call(http_client, "GET", url)).body == b"original"
    staged = await call(http_client, "PUT", with_query(url, comp="block", blockid=block_id("b1")),
                        body=b"forged")
    committed = await call(http_client, "PUT", with_query(url, comp="blocklist"),
                           body=b"<?xml version='1.0'?><BlockList></BlockList>")
    assert (staged.code, committed.code) == (403, 403)
    assert staged.headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"
    assert await store.get_bytes("box/a.pouch") == b"original"


async def test_folder_upload_url_cannot_read(folder_store, http_client):
    # (Azure's upload SAS must carry read: Get Block List needs it there.)
    await folder_store.put_bytes("box/a.pouch", b"secret")
    answer = await call(http_client, "GET", folder_store.upload_url("box/a.pouch", 60))
    assert answer.code == 403
    assert b"<Code>AuthorizationPermissionMismatch</Code>" in answer.body


async def test_url_grants_only_its_own_blob(store, http_client):
    await store.put_bytes("box/a.pouch", b"mine")
    await store.put_bytes("box/b.pouch", b"someone else's")
    for url in (store.download_url("box/a.pouch", 60), store.upload_url("box/a.pouch", 60)):
        other = url.replace("/box/a.pouch?", "/box/b.pouch?")
        answers = [await call(http_client, "GET", other),
                   await call(http_client, "PUT", with_query(other, comp="block",
                                                             blockid=block_id("b1")), body=b"x")]
        for answer in answers:
            assert_bad_signature(answer)


async def test_expired_url_is_refused(store, http_client):
    await store.put_bytes("box/a.pouch", b"late")
    assert_bad_signature(await call(http_client, "GET", store.download_url("box/a.pouch", -60)))


async def test_tampered_signature_is_refused(store, http_client):
    await store.put_bytes("box/a.pouch", b"data")
    url = urllib.parse.urlsplit(store.download_url("box/a.pouch", 60))
    query = urllib.parse.parse_qs(url.query)
    signature = query["sig"][0]
    query["sig"] = [("B" if signature[0] == "A" else "A") + signature[1:]]
    tampered = url._replace(query=urllib.parse.urlencode(query, doseq=True)).geturl()
    assert (await call(http_client, "GET", url.geturl())).code == 200
    assert_bad_signature(await call(http_client, "GET", tampered))


# -- transfers ------------------------------------------------------------------------------


async def test_upload_then_download_round_trip(store, transfer, tmp_path):
    data = content(5 * BLOCK + 123)
    source = tmp_path / "out.pouch"
    source.write_bytes(data)

    sent = await transfer.upload(store.upload_url("box/out.pouch", 60), source)
    assert (sent.sent_bytes, sent.reused_bytes, sent.requests) == (len(data), 0, 1 + 6 + 1)
    assert await store.get_bytes("box/out.pouch") == data

    dest = tmp_path / "in.pouch"
    got = await transfer.download(store.download_url("box/out.pouch", 60), dest, len(data),
                                  sha256(data))
    assert (got.received_bytes, got.requests) == (len(data), 2)
    assert dest.read_bytes() == data
    assert not (tmp_path / "in.pouch.partial").exists()


async def test_a_fresh_upload_asks_the_store_nothing_and_a_fresh_one_to_a_used_url_still_commits_whole(
        store, transfer, tmp_path):
    """A URL no block went to holds nothing: its first upload is the blocks and the commit."""
    data = content(2 * BLOCK + 5)
    source = tmp_path / "out.pouch"
    source.write_bytes(data)
    sent = await transfer.upload(store.upload_url("box/fresh.pouch", 60), source, fresh=True)
    assert (sent.sent_bytes, sent.requests) == (len(data), 3 + 1)
    assert await store.get_bytes("box/fresh.pouch") == data
    source.write_bytes(data[::-1])  # were a box wrong about it, its blocks still replace what was there
    await transfer.upload(store.upload_url("box/fresh.pouch", 60), source, fresh=True)
    assert await store.get_bytes("box/fresh.pouch") == data[::-1]


async def test_empty_blob_round_trip(store, transfer, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    await transfer.upload(store.upload_url("box/empty", 60), tmp_path / "empty")
    assert await store.size("box/empty") == 0
    await transfer.download(store.download_url("box/empty", 60), tmp_path / "got", 0, sha256(b""))
    assert (tmp_path / "got").read_bytes() == b""


async def test_upload_cut_off_resumes_with_only_the_missing_blocks(
        store, transfer, flaky_proxy, tmp_path):
    data, source = outgoing(tmp_path, 12 * BLOCK + 500)
    proxy = flaky_proxy(*store_address(store))
    url = proxy.url(store.upload_url("box/out.pouch", 60))
    proxy.cut_after(len(data) // 2, direction="up", then_down=True)

    with pytest.raises(TemporaryTransferError) as cut:
        await transfer.upload(url, source)
    first_up = proxy.bytes_up
    assert proxy.cuts == 1
    assert not await store.exists("box/out.pouch")

    proxy.come_up()
    proxy.reset_counts()
    report = await transfer.upload(url, source)
    assert await store.get_bytes("box/out.pouch") == data
    # The blocks that arrived before the cut were not sent again ...
    assert len(data) // 2 - 2 * BLOCK <= report.reused_bytes <= len(data) // 2
    assert report.sent_bytes == len(data) - report.reused_bytes
    # ... and the proxy carried that payload plus request heads, nothing more.
    heads = report.requests * HEADER_ALLOWANCE
    assert report.sent_bytes <= proxy.bytes_up <= report.sent_bytes + heads
    # All told, the cut cost at most the one block in flight.
    requests = cut.value.report.requests + report.requests
    assert first_up + proxy.bytes_up <= len(data) + BLOCK + requests * HEADER_ALLOWANCE


async def test_download_cut_off_resumes_from_the_partial_file(
        store, transfer, flaky_proxy, tmp_path):
    data = content(10 * BLOCK + 77)
    await store.put_bytes("box/in.pouch", data)
    proxy = flaky_proxy(*store_address(store))
    url = proxy.url(store.download_url("box/in.pouch", 60))
    dest = tmp_path / "in.pouch"
    partial = tmp_path / "in.pouch.partial"
    proxy.cut_after(len(data) // 2, direction="down", then_down=True)

    with pytest.raises(TemporaryTransferError) as cut:
        await transfer.download(url, dest, len(data), sha256(data))
    kept = partial.stat().st_size
    assert proxy.cuts == 1
    assert not dest.exists()
    assert len(data) // 2 - HEADER_ALLOWANCE * 3 <= kept <= len(data) // 2
    assert cut.value.report.received_bytes == kept

    proxy.come_up()
    proxy.reset_counts()
    report = await transfer.download(url, dest, len(data), sha256(data))
    assert dest.read_bytes() == data
    assert not partial.exists()
    assert (report.reused_bytes, report.received_bytes) == (kept, len(data) - kept)
    assert report.received_bytes <= proxy.bytes_down <= (
        report.received_bytes + report.requests * HEADER_ALLOWANCE)


async def test_transfers_share_one_connection(store, transfer, flaky_proxy, tmp_path):
    data = content(6 * BLOCK)
    (tmp_path / "out").write_bytes(data)
    proxy = flaky_proxy(*store_address(store))
    await transfer.upload(proxy.url(store.upload_url("box/a", 60)), tmp_path / "out")
    await transfer.download(proxy.url(store.download_url("box/a", 60)), tmp_path / "in",
                            len(data), sha256(data))
    assert proxy.connections == 1


async def test_corrupted_download_is_refused_and_discarded(store, transfer, tmp_path):
    await store.put_bytes("box/in.pouch", b"tampered bytes")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with pytest.raises(ChecksumMismatch):
        await transfer.download(store.download_url("box/in.pouch", 60), inbox / "in.pouch", 14,
                                sha256(b"original bytes"))
    assert list(inbox.iterdir()) == []


async def test_corrupt_partial_file_is_discarded_then_downloaded_afresh(
        folder_store, transfer, tmp_path):
    data = content(3 * BLOCK)
    await folder_store.put_bytes("box/in.pouch", data)
    url = folder_store.download_url("box/in.pouch", 60)
    dest = tmp_path / "in.pouch"
    (tmp_path / "in.pouch.partial").write_bytes(b"\0" * BLOCK)  # not the blob's first bytes

    with pytest.raises(ChecksumMismatch):
        await transfer.download(url, dest, len(data), sha256(data))
    assert not dest.exists()
    report = await transfer.download(url, dest, len(data), sha256(data))
    assert (report.received_bytes, dest.read_bytes()) == (len(data), data)


async def test_upload_of_an_already_committed_file_sends_nothing(store, transfer, tmp_path):
    # As after a dropped link that lost only the answer to Put Block List.
    (tmp_path / "out").write_bytes(content(3 * BLOCK))
    url = store.upload_url("box/a", 60)
    await transfer.upload(url, tmp_path / "out")
    again = await transfer.upload(url, tmp_path / "out")
    assert (again.sent_bytes, again.reused_bytes, again.requests) == (0, 3 * BLOCK, 1)


async def test_refusals_are_permanent_errors(store, transfer, tmp_path):
    (tmp_path / "out").write_bytes(b"x")
    with pytest.raises(PermanentTransferError) as missing:
        await transfer.download(store.download_url("box/none", 60), tmp_path / "in", 5, sha256(b""))
    with pytest.raises(PermanentTransferError) as expired:
        await transfer.upload(store.upload_url("box/a", -60), tmp_path / "out")
    assert (missing.value.status, missing.value.code) == (404, "BlobNotFound")
    assert expired.value.status == 403
    assert "sig=" not in str(expired.value)  # signed URLs stay out of messages and logs


async def test_unreachable_store_is_a_temporary_error(transfer, tmp_path):
    (tmp_path / "out").write_bytes(b"x")
    with pytest.raises(TemporaryTransferError):
        await transfer.upload(dead_url(), tmp_path / "out")


# -- upload blocks that adapt to the link ----------------------------------------------


async def test_a_cut_upload_resumes_with_smaller_blocks_sending_only_what_is_missing(
        store, transfer, flaky_proxy, http_client, tmp_path):
    data, source = outgoing(tmp_path, 12 * BLOCK + 500)
    proxy = flaky_proxy(*store_address(store))
    url = store.upload_url("box/out.pouch", 60)
    proxy.cut_after(len(data) // 2, direction="up", then_down=True)

    with pytest.raises(TemporaryTransferError):  # cut, then the retry finds the link down
        await transfer.upload(proxy.url(url), source)
    proxy.come_up()
    proxy.reset_counts()
    report = await transfer.upload(proxy.url(url), source)

    assert await store.get_bytes("box/out.pouch") == data
    whole = report.reused_bytes // BLOCK  # the blocks that arrived before the cut
    assert whole >= 3 and report.reused_bytes == whole * BLOCK
    sizes = await committed_sizes(http_client, url)
    assert sizes[:whole + 8] == [BLOCK] * whole + [BLOCK // 4] * 8  # halved for each dropped block
    assert report.sent_bytes == len(data) - report.reused_bytes
    assert report.sent_bytes <= proxy.bytes_up <= (
        report.sent_bytes + report.requests * HEADER_ALLOWANCE)


async def test_blocks_shrink_to_a_floor_on_drops_and_grow_back_after_a_clean_run(
        store, transfer, flaky_proxy, http_client, tmp_path):
    source = tmp_path / "out.pouch"
    source.write_bytes(b"x")
    with pytest.raises(TemporaryTransferError):
        await transfer.upload(dead_url(), source)
    assert transfer.block_size == BLOCK  # no block was lost: nothing says blocks are too big
    proxy = flaky_proxy(*store_address(store))
    source.write_bytes(content(2 * BLOCK))
    for _ in range(3):  # every block cut short, the link then down
        proxy.cut_after(2_000 + BLOCK // 8, direction="up", then_down=True)
        with pytest.raises(TemporaryTransferError):
            await transfer.upload(proxy.url(store.upload_url("box/cut.pouch", 60)), source)
        proxy.come_up()
    assert transfer.block_size == BLOCK // 4  # halved twice, then held at the floor

    data = content(8 * BLOCK // 4 + 8 * BLOCK // 2 + 2 * BLOCK + 100)
    source.write_bytes(data)
    url = store.upload_url("box/out.pouch", 60)
    report = await transfer.upload(url, source)

    assert await store.get_bytes("box/out.pouch") == data
    assert await committed_sizes(http_client, url) == (
        [BLOCK // 4] * 8 + [BLOCK // 2] * 8 + [BLOCK] * 2 + [100])
    assert (report.sent_bytes, report.requests) == (len(data), 1 + 19 + 1)


async def test_drops_that_let_bytes_through_are_retried_at_once_and_cost_little(
        store, transfer, flaky_proxy, tmp_path):
    data, source = outgoing(tmp_path, 20 * BLOCK)
    proxy = flaky_proxy(*store_address(store))
    proxy.cut_after(3 * BLOCK, 5 * BLOCK, 4 * BLOCK)  # both ways: three drops, the link then fine
    report = await transfer.upload(proxy.url(store.upload_url("box/out.pouch", 60)), source)
    assert proxy.cuts == 3 and await store.get_bytes("box/out.pouch") == data
    # each drop lost at most the block in flight: no new list of blocks, no second copy
    assert proxy.bytes_up <= len(data) + 3 * BLOCK + report.requests * HEADER_ALLOWANCE

    dest = tmp_path / "in.pouch"
    proxy.cut_after(7 * BLOCK, 6 * BLOCK)
    got = await transfer.download(proxy.url(store.download_url("box/out.pouch", 60)), dest, len(data),
                                  sha256(data))
    assert proxy.cuts == 5 and dest.read_bytes() == data
    assert got.received_bytes == len(data)  # every byte that came before a drop was kept


async def test_a_resume_across_block_size_changes_commits_the_right_blob(
        store, transfer, flaky_proxy, http_client, tmp_path):
    data, source = outgoing(tmp_path, 10 * BLOCK + 321)
    proxy = flaky_proxy(*store_address(store))
    url = store.upload_url("box/out.pouch", 60)
    restarted = make_transfer(http_client, block_size=12 * 1024)  # a box restarted, reconfigured
    for attempt in (transfer, restarted):
        proxy.cut_after(3 * BLOCK, direction="up", then_down=True)
        with pytest.raises(TemporaryTransferError):
            await attempt.upload(proxy.url(url), source)
        proxy.come_up()

    report = await transfer.upload(proxy.url(url), source)  # now with 4 KiB blocks
    sizes = await committed_sizes(http_client, url)
    assert {BLOCK, 12 * 1024, BLOCK // 4} <= set(sizes)
    assert report.reused_bytes >= 2 * BLOCK + 12 * 1024
    dest = tmp_path / "in.pouch"
    await transfer.download(store.download_url("box/out.pouch", 60), dest, len(data), sha256(data))
    assert sha256(dest.read_bytes()) == sha256(data)


async def test_held_blocks_are_reused_wherever_they_start_and_gaps_filled_between(
        store, transfer, http_client, tmp_path):
    data, source = outgoing(tmp_path, 70_000)
    url = store.upload_url("box/out.pouch", 60)
    held = [(0, 10_000), (30_000, 10_000)]
    for offset, length in held:
        await call(http_client, "PUT", with_query(
            url, comp="block", blockid=block_id_for(sha256(data), offset, length)),
            data[offset:offset + length])
    # Neither of these may be used: a block of another file, one shorter than its id says.
    for digest, body in ((sha256(b"other"), data[10_000:20_000]), (sha256(data), data[:999])):
        await call(http_client, "PUT", with_query(
            url, comp="block", blockid=block_id_for(digest, 10_000, 10_000)), body)

    report = await transfer.upload(url, source)

    assert await store.get_bytes("box/out.pouch") == data
    assert await committed_sizes(http_client, url) == [10_000, BLOCK, 20_000 - BLOCK,
                                                       10_000, BLOCK, 30_000 - BLOCK]
    assert (report.reused_bytes, report.sent_bytes) == (20_000, 50_000)
