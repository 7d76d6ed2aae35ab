"""The relay trusts no box's upload: senders it owns only, pouch.limits per message, memory
bounded whatever a pouch expands to, a quota on what waits, and uploads that expire.  What it
will not take comes back to the box as a failed status, and the mail beside it goes on."""

import email
import hashlib
import io
import time

import pytest
import sqlalchemy as sa
import tornado.httpclient

from pouch import limits, mime
from pouch.container import PouchWriter
from pouch.records import (STATUS_FAILED, STATUS_SENT, AccountRecord, Attachment, BlobRecord, FlagRecord,
                           MessageRecord, StatusRecord)
from relay import boxes, retention
from relay.schema import pouches
from tests.relay.conftest import BoxClient, deliver, email_bytes
from tests.relay.test_crash import relay_in_process
from tests.support.pouches import unchecked_pouch

MiB = 1 << 20


def outgoing(record_id, to, sender="marie@goma.relay.test", **message):
    parsed = mime.parse(email_bytes(to, sender=sender, subject=record_id, **message), record_id)
    return parsed.record, parsed.blobs


def fates(records):
    return {r.message_id: (r.state, r.reason) for r in records if isinstance(r, StatusRecord)}


def sent_subjects(relay):
    folder = relay.settings.sent_folder
    return sorted(email.message_from_bytes(path.read_bytes())["Subject"] for path in folder.glob("*.eml")) \
        if folder.is_dir() else []


async def send_pouch(box, tmp_path, write):
    """Upload the pouch ``write(PouchWriter)`` makes and hand it over; returns (name, answer)."""
    path = tmp_path / "outgoing.pouch"
    with open(path, "wb") as out, PouchWriter(out, sender="box", recipient="relay", level=3) as writer:
        write(writer)
    return await send_file(box, path)


async def send_file(box, path):
    """Upload the pouch file at ``path`` and hand it over; returns (name, answer)."""
    answer = await box.sync(outgoing={"size": path.stat().st_size})
    await box.transfer.upload(answer["upload"]["url"], path)
    return answer["upload"]["name"], await box.sync(uploaded=[answer["upload"]["name"]])


def messages(*parsed):
    def write(writer):
        for record, blobs in parsed:
            for digest, data in blobs.items():
                writer.add(BlobRecord(digest, data))
            writer.add(record)
    return write


@pytest.mark.gen_test(timeout=60)
async def test_a_box_sends_only_from_addresses_it_owns(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    boxes.add_address(relay.engine, "goma", "marie@shared.test")  # the directory of a shared domain
    registered = [AccountRecord("a1", "marie@goma.relay.test", "Marie@Gmail.example", "paused", b"sealed"),
                  # an external account may not claim an address of another box, or of a domain of
                  # this relay's that is no box's (yet), or of a directory's domain
                  AccountRecord("a2", "marie@goma.relay.test", "boss@bukavu.relay.test", "paused", b"sealed"),
                  AccountRecord("a3", "marie@goma.relay.test", "ghost@kindu.relay.test", "paused", b"sealed"),
                  AccountRecord("a4", "marie@goma.relay.test", "bob@shared.test", "paused", b"sealed")]
    mail = [outgoing("own", "friend@example.com"),
            outgoing("directory", "friend@example.com", sender="Marie <marie@shared.test>"),
            outgoing("external", "friend@example.com", sender="marie@gmail.example"),
            outgoing("to-bukavu", "jean@bukavu.relay.test"),
            outgoing("ceo", "friend@example.com", sender="ceo@bank.example"),
            outgoing("admin", "jean@bukavu.relay.test", sender="admin@bukavu.relay.test"),
            outgoing("boss", "friend@example.com", sender="boss@bukavu.relay.test"),
            outgoing("ghost", "friend@example.com", sender="ghost@kindu.relay.test"),
            outgoing("bob", "friend@example.com", sender="bob@shared.test")]

    def write(writer):
        for account in registered:
            writer.add(account)
        messages(*mail)(writer)

    name, answer = await send_pouch(goma, tmp_path, write)
    assert answer["accepted"] == [name]
    await relay.send_all()

    assert sent_subjects(relay) == ["directory", "external", "own"]
    _, records = await goma.receive(tmp_path)
    fate = fates(records)
    assert {key: state for key, (state, _) in fate.items()} == {
        "own": STATUS_SENT, "directory": STATUS_SENT, "external": STATUS_SENT, "to-bukavu": STATUS_SENT,
        "ceo": STATUS_FAILED, "admin": STATUS_FAILED, "boss": STATUS_FAILED, "ghost": STATUS_FAILED,
        "bob": STATUS_FAILED}
    assert "ceo@bank.example, which is not an address of this box" in fate["ceo"][1]
    assert "admin@bukavu.relay.test" in fate["admin"][1] and "boss@bukavu.relay.test" in fate["boss"][1]
    _, records = await bukavu.receive(tmp_path)
    assert [r.subject for r in records if isinstance(r, MessageRecord)] == ["to-bukavu"]


@pytest.mark.gen_test(timeout=60)
async def test_what_goes_over_the_limits_comes_back_failed_and_the_rest_goes(relay, tmp_path):
    goma = await relay.register("goma")
    crowd, too_many = outgoing("crowd", "friend@example.com"), outgoing("too-many", "friend@example.com")
    crowd[0].bcc = [("", f"r{n}@example.com") for n in range(100_000)]  # beyond what a record may hold
    too_many[0].bcc = [("", f"r{n}@example.com") for n in range(limits.MAX_RECIPIENTS)]  # 1,001 with To
    long_id = outgoing("x" * 300, "friend@example.com")
    fine = outgoing("fine", "friend@example.com")
    await send_pouch(goma, tmp_path, messages(crowd, too_many, long_id, fine))
    await relay.send_all()

    assert sent_subjects(relay) == ["fine"]
    _, records = await goma.receive(tmp_path)
    fate = fates(records)
    assert fate["fine"][0] == STATUS_SENT
    assert fate["crowd"][0] == STATUS_FAILED and "recipients" in fate["crowd"][1]
    assert fate["too-many"] == (STATUS_FAILED, "it has 1001 recipients; at most 1000 can be sent at once")
    assert fate["x" * 300][0] == STATUS_FAILED and "300 characters" in fate["x" * 300][1]


@pytest.fixture
def relay_process(io_loop, tmp_path, database_url):  # io_loop first: Relay makes a client
    """A relay serving in a process of its own, so that its peak memory can be read."""
    with relay_in_process(tmp_path, database_url) as running:
        yield running


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def zeros_file(path, size):
    """A file of ``size`` zero bytes (sparse) and its sha256, hashed in pieces."""
    with open(path, "wb") as file:
        file.truncate(size)
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while piece := file.read(MiB):
            digest.update(piece)
    return digest.digest()


@pytest.mark.gen_test(timeout=180)
async def test_a_small_pouch_of_a_huge_blob_is_refused_per_message_in_bounded_memory(relay_process, tmp_path):
    process, relay = relay_process
    await process.start()
    goma = BoxClient(relay, (await relay.register("goma")).token)
    huge = tmp_path / "zeros.bin"
    digest = zeros_file(huge, 200 * MiB)
    record, _ = outgoing("huge", "friend@example.com")
    record.attachments = [Attachment("zeros.bin", "application/octet-stream", 200 * MiB, digest)]
    fine = outgoing("fine", "friend@example.com", attachments=[("a.txt", "text/plain", b"a" * 1000)])

    def write(writer):
        with open(huge, "rb") as data:
            writer.add(BlobRecord(digest, data))
        writer.add(record)
        messages(fine)(writer)

    before = peak_rss_mb(process.process.pid)
    name, answer = await send_pouch(goma, tmp_path, write)
    peak = peak_rss_mb(process.process.pid)
    print(f"\nrelay peak RSS: {before:.0f} MB before, {peak:.0f} MB after taking over a "
          f"{(tmp_path / 'outgoing.pouch').stat().st_size / 1024:.1f} KB pouch holding a 200 MiB blob")
    assert answer["accepted"] == [name] and (tmp_path / "outgoing.pouch").stat().st_size < 64 * 1024
    assert peak < 300

    fate = await wait_for_fates(goma, tmp_path, {"huge", "fine"})
    assert fate["fine"][0] == STATUS_SENT
    assert fate["huge"][0] == STATUS_FAILED and "200.0 MB" in fate["huge"][1] and "30 MB" in fate["huge"][1]
    print(f"relay peak RSS after sending: {peak_rss_mb(process.process.pid):.0f} MB")


async def wait_for_fates(box, tmp_path, wanted, seconds=30):
    """The statuses of ``wanted`` message ids, syncing until all came back (the relay sends them)."""
    fate, deadline = {}, time.monotonic() + seconds
    while not wanted <= fate.keys():
        assert time.monotonic() < deadline, f"statuses still missing: {wanted - fate.keys()}"
        _, records = await box.receive(tmp_path)
        fate.update(fates(records))
    return fate


@pytest.mark.parametrize("relay_overrides", [{"sync_box_quota_bytes": 10_000}])
@pytest.mark.gen_test(timeout=60)
async def test_a_box_over_its_quota_is_refused_an_upload_and_still_gets_its_mail(relay, tmp_path):
    goma = await relay.register("goma")
    first = await goma.sync(outgoing={"size": 6000})
    await deliver(relay, "marie@goma.relay.test", subject="Still comes")
    answer = await goma.sync(outgoing={"size": 6000})  # the first one is still waiting
    assert answer.get("upload") is None
    assert "quota of 10000" in answer["upload_error"] and "6000 bytes" in answer["upload_error"]
    assert len(answer["downloads"]) == 1  # the rest of the sync went on

    data = email_bytes("friend@example.com", sender="marie@goma.relay.test")
    path = tmp_path / "first.pouch"
    path.write_bytes(pouch_of(mime.parse(data, "m-1")))
    await goma.transfer.upload(first["upload"]["url"], path)
    answer = await goma.sync(uploaded=[first["upload"]["name"]], outgoing={"size": 6000})
    assert answer["accepted"] == [first["upload"]["name"]] and answer["upload"] is not None


def pouch_of(parsed):
    buffer = io.BytesIO()
    with PouchWriter(buffer, sender="box", recipient="relay", level=3) as writer:
        messages((parsed.record, parsed.blobs))(writer)
    return buffer.getvalue()


@pytest.mark.gen_test(timeout=60)
async def test_uploads_never_handed_over_expire_and_refused_ones_leave_the_store(relay, tmp_path):
    goma = await relay.register("goma")
    staged = (await goma.sync(outgoing={"size": 10}))["upload"]
    block = staged["url"] + "&comp=block&blockid=" + "QUFBQQ%3D%3D"  # base64 "AAAA"
    response = await tornado.httpclient.AsyncHTTPClient().fetch(block, method="PUT", body=b"0123456789")
    assert response.code == 201  # staged, never committed
    whole = (await goma.sync(outgoing={"size": 10}))["upload"]
    (tmp_path / "whole.pouch").write_bytes(b"0123456789")  # uploaded whole, not a pouch
    await goma.transfer.upload(whole["url"], tmp_path / "whole.pouch")
    assert staging(relay, staged["name"]) and await relay.store.exists(whole["name"])

    later = time.time() + relay.settings.storage.url_lifetime_s + retention.STAGED_MARGIN_S + 1
    assert await retention.expire_uploads(relay.engine, relay.store, relay.settings, now=later) == 1
    assert state(relay, staged["name"]) == "expired" and not staging(relay, staged["name"])
    assert state(relay, whole["name"]) == "expected"  # the box may still come to hand it over

    answer = await goma.sync(uploaded=[whole["name"], staged["name"]])
    assert [refused["name"] for refused in answer["rejected"]] == [whole["name"], staged["name"]]
    assert "not a readable pouch" in answer["rejected"][0]["error"]
    assert "not an upload this relay expects" in answer["rejected"][1]["error"]
    assert [refused["permanent"] for refused in answer["rejected"]] == [True, False]  # expired: packed again
    assert not await relay.store.exists(whole["name"]) and not staging(relay, whole["name"])

    forgotten = (await goma.sync(outgoing={"size": 10}))["upload"]
    await goma.transfer.upload(forgotten["url"], tmp_path / "whole.pouch")
    week = time.time() + relay.settings.retention.keep_days * retention.DAY_S + 1
    assert await retention.expire_uploads(relay.engine, relay.store, relay.settings, now=week) == 1
    assert state(relay, forgotten["name"]) == "expired" and not await relay.store.exists(forgotten["name"])


def state(relay, name):
    with relay.engine.connect() as db:
        return db.execute(sa.select(pouches.c.state).where(pouches.c.name == name)).scalar()


def staging(relay, name):
    """Whether the folder store holds staged blocks of ``name``."""
    blocks = relay.store._state_dir(name) / "blocks"
    return blocks.is_dir() and any(blocks.iterdir())


@pytest.mark.gen_test(timeout=60)
async def test_text_no_database_can_store_fails_its_message_alone_and_the_sync_goes_on(relay, tmp_path):
    goma = await relay.register("goma")
    nul_subject, fine = outgoing("nul-subject", "friend@example.com"), outgoing("fine", "friend@example.com")
    nul_subject[0].subject = "seeds\0"
    nul_id = outgoing("nul\0id", "friend@example.com")
    path = tmp_path / "hostile.pouch"
    path.write_bytes(unchecked_pouch([FlagRecord("²", True, 1), FlagRecord("9" * 400, True, 1),
                                      nul_subject[0], nul_id[0], fine[0]], sender="box", recipient="relay"))
    name, answer = await send_file(goma, path)
    assert answer["accepted"] == [name]
    await relay.send_all()

    assert sent_subjects(relay) == ["fine"]
    _, records = await goma.receive(tmp_path)
    fate = fates(records)
    assert fate["fine"][0] == STATUS_SENT
    assert fate["nul-subject"][0] == STATUS_FAILED and "NUL" in fate["nul-subject"][1]
    assert "nul\0id" not in fate  # no box makes such an id, and no status could carry it
