"""The box stops paying for what it cannot read: a pouch that will not import is downloaded
at most twice, then set aside, shown to the admin and parked at the relay, while the mail
beside it comes in; one refused message is set aside alone; an upload the relay refuses for
good fails its mail with the relay's reason; a bug of the box stays a bug."""

import hashlib
import json
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from appliance.store import set_aside, sync_state, sync_usage
from appliance.store.messages import FAILED, INBOX, QUEUED, UPLOADED
from appliance.sync import importer, outgoing
from pouch.records import MessageRecord
from relay import quarantine
from relay.boxsync import packing
from relay.schema import boxes, pouches
from tests.relay.conftest import email_bytes, pouch_bytes
from tests.sync.test_admin_page import Browser, serve_box_with_sync_pages

BOX = "goma"
DOMAIN = f"{BOX}.relay.test"


async def offer(relay, data):
    """Put pouch bytes ``data`` on the relay, offered to the box as if the relay had packed it."""
    name = packing.pouch_name(SimpleNamespace(name=BOX), packing.DOWN)
    await relay.store.put_bytes(name, data)
    with relay.engine.begin() as db:
        box_id = db.execute(sa.text("SELECT id FROM boxes WHERE name = :name"), {"name": BOX}).scalar()
        db.execute(pouches.insert().values(name=name, box_id=box_id, direction=packing.DOWN,
                                           state=packing.OFFERED, size=len(data),
                                           sha256=hashlib.sha256(data).hexdigest(), created_at=int(time.time())))
    return name


def pouch_row(relay, name):
    with relay.engine.connect() as db:
        return db.execute(sa.select(pouches.c.state, pouches.c.error).where(pouches.c.name == name)).one()


def count_downloads(box, name):
    """A list that grows by one each time the box starts downloading pouch ``name``."""
    starts, fetch = [], box.http.fetch
    tail = name.rsplit("/", 1)[1]

    async def counting(request, **options):
        if request.method == "GET" and tail in request.url and (request.headers or {}).get(
                "x-ms-range", "bytes=0-").startswith("bytes=0-"):
            starts.append(request.url)
        return await fetch(request, **options)

    box.http.fetch = counting
    return starts


def message(record_id, subject):
    return MessageRecord(id=record_id, from_=[("Ami", "ami@example.org")], to=[("", f"marie@{DOMAIN}")],
                         subject=subject, date=1_790_000_000, body="Hello.", recipients=[f"marie@{DOMAIN}"])


def corrupt(data):
    """The same pouch with its compressed stream damaged: it reads as CorruptPouch."""
    middle = len(data) // 2 + 20
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) + data[middle + 16:]


async def queued_mail(make_box, subject):
    """(box, marie, message id): a box where marie's mail to the outside waits for the sync."""
    goma = await make_box(BOX)
    marie = goma.user("marie")
    return goma, marie, goma.send(marie, ["friend@example.com"], subject)


async def page(box, user, path="/admin/sync"):
    """The text of the box's page ``path`` as ``user`` sees it."""
    server, url = serve_box_with_sync_pages(box, None)
    try:
        browser = Browser(url)
        await browser.sign_in(user["email"])
        response = await browser.get(path)
        assert response.status_code == 200
        return response.text
    finally:
        server.stop()


async def webhook(relay, subject):
    raw = email_bytes(f"marie@{DOMAIN}", subject=subject)
    assert (await relay.webhook({"email": raw, "envelope": json.dumps({"to": [f"marie@{DOMAIN}"]})})).code == 200


async def damaged_on_the_relay(relay):
    """The relay packs what is pending for the box, and the pouch's bytes get damaged in its store."""
    with relay.engine.connect() as db:
        box = db.execute(sa.select(boxes).where(boxes.c.name == BOX)).one()
    [name] = await packing.pack_pending(relay.engine, relay.store, relay.settings, box)
    data = corrupt(await relay.store.get_bytes(name))
    await relay.store.put_bytes(name, data)
    with relay.engine.begin() as db:
        db.execute(pouches.update().where(pouches.c.name == name).values(
            size=len(data), sha256=hashlib.sha256(data).hexdigest()))
    return name


@pytest.mark.gen_test(timeout=120)
async def test_an_unreadable_pouch_is_downloaded_twice_then_parked_and_the_mail_beside_it_comes(
        relay, make_box):
    goma = await make_box(BOX)
    admin, marie = goma.user("amani", is_admin=True), goma.user("marie")
    await webhook(relay, "Held at the relay")
    bad = await damaged_on_the_relay(relay)
    await webhook(relay, "Good news")  # packed at the box's sync, in a pouch of its own
    downloads = count_downloads(goma, bad)

    results = [await goma.sync() for _ in range(3)]

    print(f"\nunreadable pouch: downloaded {len(downloads)} times over 3 syncs")
    assert all(result.ok for result in results), [result.error for result in results]
    assert len(downloads) == 2
    assert [m["subject"] for m in goma.folder(marie, INBOX)] == ["Good news"]  # the pouch beside it
    state, error = pouch_row(relay, bad)
    assert state == "parked" and error.startswith("the box could not read it: ")
    with goma.store.read() as conn:
        [kept] = set_aside.listing(conn)
    assert kept["pouch_name"] == bad and kept["record_id"] is None and kept["reported_at"]
    assert (goma.settings.box.data_dir / set_aside.FOLDER / kept["file"]).stat().st_size > 0
    assert kept["reason"] in error  # the relay keeps the box's reason
    text = await page(goma, admin)
    assert "Set aside" in text and bad in text and "the whole pouch" in text

    # The operator sees the parked pouch's mail quarantined, and retries it: it comes anew.
    with relay.engine.connect() as db:
        [held] = quarantine.listing(db, quarantined_only=True)
    assert "could not read pouch" in held.quarantine_reason
    quarantine.retry(relay.engine, held.id)
    assert (await goma.sync()).ok
    assert sorted(m["subject"] for m in goma.folder(marie, INBOX)) == ["Good news", "Held at the relay"]
    assert len(downloads) == 2


@pytest.mark.gen_test(timeout=90)
async def test_a_message_the_store_refuses_is_set_aside_and_the_rest_of_its_pouch_comes(relay, make_box):
    goma = await make_box(BOX)
    admin, marie = goma.user("amani", is_admin=True), goma.user("marie")
    name = await offer(relay, pouch_bytes([(message("in-1", "First"), {}), (message("x" * 300, "Odd one"), {}),
                                           (message("in-3", "Third"), {})], sender="relay", recipient=BOX))
    downloads = count_downloads(goma, name)

    result = await goma.sync()
    assert result.ok and result.messages_down == 2, result.error
    assert sorted(m["subject"] for m in goma.folder(marie, INBOX)) == ["First", "Third"]
    assert len(downloads) == 1 and pouch_row(relay, name).state == packing.ACKED
    with goma.store.read() as conn:
        [kept] = set_aside.listing(conn)
    assert kept["record_id"] == "x" * 300 and "300 characters" in kept["reason"] and kept["reported_at"]
    assert (goma.settings.box.data_dir / set_aside.FOLDER / kept["file"]).is_file()
    text = await page(goma, admin)
    assert "ami@example.org: Odd one" in text and "300 characters" in text


@pytest.mark.gen_test(timeout=90)
async def test_an_upload_refused_for_good_fails_its_mail_with_the_relays_reason(relay, make_box, monkeypatch):
    goma, marie, sent_id = await queued_mail(make_box, "Will not go")
    pack = outgoing.pack

    def damaged(store, path, *args):
        contents = pack(store, path, *args)
        if contents is not None:
            path.write_bytes(corrupt(path.read_bytes()))  # what the relay gets does not read
        return contents

    monkeypatch.setattr(outgoing, "pack", damaged)
    first = await goma.sync()
    assert first.ok and first.messages_up == 0, first.error
    failed = goma.message(sent_id)
    assert failed["state"] == FAILED and failed["state_reason"].startswith("the relay refused it: ")

    again = await goma.sync()  # not packed again
    assert again.ok and again.bytes_up < 2000
    with relay.engine.connect() as db:
        states = db.execute(sa.select(pouches.c.state).where(pouches.c.direction == "up")).scalars().all()
    assert states == ["rejected"]
    text = await page(goma, marie, "/folder/sent")
    assert "Not delivered" in text and "the relay refused it" in text


@pytest.mark.gen_test(timeout=90)
async def test_an_upload_the_relay_cannot_read_yet_is_sent_again_not_failed(relay, make_box, monkeypatch):
    goma, marie, sent_id = await queued_mail(make_box, "Goes next time")

    async def lost(url, path):  # the box believes the blocks went; the relay has none
        return None

    monkeypatch.setattr("pouch.blobs.transfer.BlobTransfer.upload", lambda self, url, path, **_: lost(url, path))
    first = await goma.sync()
    assert first.ok and goma.message(sent_id)["state"] == QUEUED, first.error
    monkeypatch.undo()
    second = await goma.sync()
    assert second.ok and second.messages_up == 1 and goma.message(sent_id)["state"] == UPLOADED, second.error


@pytest.mark.gen_test(timeout=90)
async def test_a_bug_of_the_box_fails_the_sync_and_is_not_taken_for_a_bad_pouch(relay, make_box, monkeypatch):
    goma = await make_box(BOX)
    marie = goma.user("marie")
    name = await offer(relay, pouch_bytes([(message("in-1", "Fine mail"), {})], sender="relay", recipient=BOX))

    def broken(*args):
        raise RuntimeError("a bug in the box")

    monkeypatch.setattr(importer.incoming, "deliver_incoming", broken)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="a bug in the box"):
            await goma.sync()
    with goma.store.read() as conn:
        assert set_aside.listing(conn) == [] and sync_state.unacked(conn) == []
        history = sync_usage.history(conn)
    assert [run["ok"] for run in history] == [False] * 3 and "internal error" in history[0]["error"]
    assert pouch_row(relay, name).state == packing.OFFERED  # still offered: not parked

    monkeypatch.undo()
    assert (await goma.sync()).ok
    assert [m["subject"] for m in goma.folder(marie, INBOX)] == ["Fine mail"]


def test_an_upload_saved_before_the_state_was_typed_reads_back_the_same(tmp_path):
    """A box upgraded mid-upload resumes: the document kept in box_state keeps its shape."""
    saved = {"path": str(tmp_path / "outgoing.pouch"), "size": 4321, "name": f"{BOX}/up/0001.pouch",
             "url": "https://relay.example.org/blob?sig=x", "done": False, "uids": ["a1", "b2"],
             "accounts": {"acc1": 3}, "flags": [7, 8]}
    upload = sync_state.Upload.from_json(json.loads(json.dumps(saved)))
    assert (upload.name, upload.done, upload.contents.uids, upload.contents.accounts) == (
        saved["name"], False, ["a1", "b2"], {"acc1": 3})
    assert upload.to_json() == saved


@pytest.mark.gen_test(timeout=90)
async def test_an_outbox_message_the_relay_would_refuse_fails_on_the_box_and_the_rest_go_up(relay, make_box):
    goma = await make_box(BOX)
    marie = goma.user("marie")
    stored_before = goma.send(marie, ["friend@example.com"], "seeds\0")  # as an older box stored it
    fine = goma.send(marie, ["friend@example.com"], "fine")
    result = await goma.sync()
    assert result.ok and result.messages_up == 1, result.error
    assert goma.message(fine)["state"] == UPLOADED
    refused = goma.message(stored_before)
    assert refused["state"] == FAILED and "NUL" in refused["state_reason"]


@pytest.mark.gen_test(timeout=90)
async def test_a_file_type_an_older_box_kept_as_a_phone_gave_it_goes_as_its_name_says(relay, make_box):
    goma = await make_box(BOX)
    marie = goma.user("marie")
    sent = goma.send(marie, ["friend@example.com"], "Menu", files=[("menu.pdf", "application/p\0df", b"%PDF")])
    result = await goma.sync()
    assert result.ok and result.messages_up == 1, result.error
    assert goma.message(sent)["state"] == UPLOADED
