"""The sync handshake: packing, acks, re-offers, and one box never touching another's pouches."""

import base64
import gzip
import json
import os

import pytest
import sqlalchemy as sa

from pouch import sealing
from pouch.records import BlobRecord, MessageRecord
from relay import keys, report
from relay.schema import deliveries
from tests.relay.conftest import BoxClient, deliver


def subjects(records):
    return [r.subject for r in records if isinstance(r, MessageRecord)]


def delivered(relay):
    with relay.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).where(deliveries.c.delivered_at.isnot(None))).scalar()


@pytest.mark.gen_test(timeout=30)
async def test_unacked_pouches_are_offered_again_and_acks_deliver(relay, tmp_path):
    box = await relay.register("goma")
    await deliver(relay, "marie@goma.relay.test", subject="first")
    first, records = await box.receive(tmp_path, ack=False)
    assert subjects(records) == ["first"]

    await deliver(relay, "marie@goma.relay.test", subject="second")
    again, records = await box.receive(tmp_path, ack=False)
    assert first[0] in again and len(again) == 2  # the old pouch again, the new mail in a new one
    assert sorted(subjects(records)) == ["first", "second"]
    assert delivered(relay) == 0

    await box.sync(received=again)
    assert delivered(relay) == 2
    assert (await box.sync())["downloads"] == []
    await box.sync(received=again)  # a repeated ack changes nothing
    assert delivered(relay) == 2


@pytest.mark.gen_test(timeout=30)
async def test_a_box_cannot_list_fetch_or_ack_another_boxs_pouches(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    await deliver(relay, "marie@goma.relay.test", subject="for goma only")
    offer = (await goma.sync())["downloads"][0]

    answer = await bukavu.sync(received=[offer["name"]], uploaded=[offer["name"]])
    assert answer["downloads"] == [] and not answer.get("accepted")
    assert answer["rejected"][0]["name"] == offer["name"]
    assert delivered(relay) == 0
    assert [d["name"] for d in (await goma.sync())["downloads"]] == [offer["name"]]

    # The signed URL is for that pouch only: another name with the same signature is refused.
    forged = offer["url"].replace(offer["name"], offer["name"].replace("goma", "bukavu"))
    response = await relay.http.fetch(forged, raise_error=False)
    assert response.code == 403


@pytest.mark.parametrize("relay_overrides", [{"sync_pouch_max_bytes": 6000, "sync_big_message_bytes": 3000}])
@pytest.mark.gen_test(timeout=30)
async def test_packing_sends_small_mail_first_in_capped_pouches(relay, tmp_path):
    box = await relay.register("goma")
    await deliver(relay, "m@goma.relay.test", subject="big-old", body="b" * 4000)
    for index in range(4):
        await deliver(relay, "m@goma.relay.test", subject=f"small-{index}", body="s" * 1000)
    answer = await box.sync()
    per_pouch = [subjects(await box.fetch(tmp_path, offer)) for offer in answer["downloads"]]
    assert per_pouch == [["small-0", "small-1", "small-2", "small-3"], ["big-old"]]


@pytest.mark.parametrize("relay_overrides", [{"sync_pouch_max_bytes": 1500}])
@pytest.mark.gen_test(timeout=30)
async def test_a_long_offer_comes_gzipped_and_a_pouch_with_no_vary_header(relay, tmp_path):
    """Bytes over the modem: a day's offer of many pouches is JSON worth compressing; a pouch is
    compressed already, and an answer that is not compressed says nothing about Accept-Encoding."""
    box = await relay.register("goma")
    for index in range(8):
        await deliver(relay, "m@goma.relay.test", subject=f"day-{index}", body=f"{index} " * 500)
    sync = dict(method="POST", headers={"Authorization": f"Bearer {box.token}", "Accept-Encoding": "gzip"},
                decompress_response=False, raise_error=False)
    body = json.dumps({"received": [], "uploaded": [], "outgoing": None})
    offer = await relay.http.fetch(relay.url + "/api/v1/sync", body=body, **sync)
    assert offer.headers["Content-Encoding"] == "gzip" and offer.headers["Vary"] == "Accept-Encoding"
    downloads = json.loads(gzip.decompress(offer.body))["downloads"]
    assert len(downloads) == 8 and len(offer.body) < len(gzip.decompress(offer.body)) / 2
    pouch = await relay.http.fetch(downloads[0]["url"], headers={"Accept-Encoding": "gzip"},
                                   decompress_response=False)
    assert "Vary" not in pouch.headers and "Content-Encoding" not in pouch.headers
    assert len(pouch.body) == downloads[0]["size"]
    idle = await BoxClient(relay, box.token).sync(received=[d["name"] for d in downloads])
    assert idle["downloads"] == []  # a short answer, read as before


@pytest.mark.gen_test(timeout=30)
async def test_the_relays_answers_carry_only_what_the_box_reads(relay, tmp_path):
    """Each answer of a sync crosses the box's modem: no server name, no empty fields, no spaces."""
    box = await relay.register("goma")
    await deliver(relay, "m@goma.relay.test", subject="one", body="short")
    sync = dict(method="POST", headers={"Authorization": f"Bearer {box.token}"}, raise_error=False)
    offer = await relay.http.fetch(relay.url + "/api/v1/sync", body="{}", **sync)
    document = json.loads(offer.body)
    assert offer.code == 200 and offer.headers["Content-Type"] == "application/json"
    assert offer.body == json.dumps(document, separators=(",", ":")).encode()
    assert sorted(document) == ["downloads", "keep_days"] and len(document["downloads"]) == 1
    pouch = await relay.http.fetch(document["downloads"][0]["url"], headers={"x-ms-range": "bytes=0-99"})
    assert pouch.code == 206 and len(pouch.body) == 100
    assert not {"Content-Type", "Accept-Ranges", "x-ms-blob-type"} & set(pouch.headers)
    done = await relay.http.fetch(relay.url + "/api/v1/sync", body=json.dumps(
        {"received": [document["downloads"][0]["name"]]}), **sync)
    assert json.loads(done.body) == {"downloads": [], "keep_days": 7}
    refused = await relay.http.fetch(relay.url + "/api/v1/sync", method="POST", body="{}", raise_error=False)
    assert refused.code == 401 and json.loads(refused.body)["error"]
    for answer in (offer, pouch, done, refused):
        assert "Server" not in answer.headers
    slot = json.loads((await relay.http.fetch(relay.url + "/api/v1/sync", body=json.dumps(
        {"outgoing": {"size": 3}}), **sync)).body)["upload"]
    block = await relay.http.fetch(slot["url"] + "&comp=block&blockid=QUJD", method="PUT", body=b"abc")
    assert block.code == 201 and not {"Server", "Content-Type"} & set(block.headers)  # one per block


@pytest.mark.gen_test(timeout=30)
async def test_every_answer_a_browser_could_show_has_a_strict_policy_and_the_boxs_traffic_none(relay):
    box = await relay.register("goma")
    await deliver(relay, "m@goma.relay.test", subject="one", body="short")
    pages = {path: await relay.http.fetch(relay.url + path, raise_error=False)
             for path in ("/", "/healthz", "/status", "/nowhere", "/blobs/goma/down/x.pouch", "/api/v1/sync")}
    assert [pages[path].code for path in pages] == [200, 200, 401, 404, 403, 405]
    for path, page in pages.items():
        assert "default-src 'none'" in page.headers["Content-Security-Policy"], path
        assert page.headers["X-Content-Type-Options"] == "nosniff", path
    offer = await box.sync()
    pouch = await relay.http.fetch(offer["downloads"][0]["url"])
    answer = await relay.http.fetch(relay.url + "/api/v1/sync", method="POST", body="{}",
                                    headers={"Authorization": f"Bearer {box.token}"})
    for read_by_curl in (pouch, answer):  # never rendered: nothing more over the modem
        assert not {"Content-Security-Policy", "X-Content-Type-Options"} & set(read_by_curl.headers)


@pytest.mark.parametrize("relay_overrides", [{"sync_big_message_bytes": 20_000}])
@pytest.mark.gen_test(timeout=30)
async def test_big_mail_sends_its_text_first_and_its_attachments_in_a_later_pouch(relay, tmp_path):
    box = await relay.register("goma")
    video = os.urandom(60_000)
    await deliver(relay, "m@goma.relay.test", subject="the video", attachments=[("v.mp4", "video/mp4", video)])
    await deliver(relay, "m@goma.relay.test", subject="small", body="just text")
    first, second = (await box.sync())["downloads"]
    records = await box.fetch(tmp_path, first)
    assert subjects(records) == ["small", "the video"]
    announced = [r for r in records if isinstance(r, MessageRecord) and r.attachments][0]
    assert [(a.name, a.size) for a in announced.attachments] == [("v.mp4", len(video))]
    assert first["size"] < 5_000 and not any(isinstance(r, BlobRecord) for r in records)
    assert [r.data for r in await box.fetch(tmp_path, second)] == [video]
    assert second["size"] > len(video)

    # Acking the text delivers the messages; the attachments stay owed until their pouch is acked.
    answer = await box.sync(received=[first["name"]])
    assert [offer["name"] for offer in answer["downloads"]] == [second["name"]]
    with relay.engine.connect() as db:
        assert report.box_rows(db)[0]["pending"] == 1
    await box.sync(received=[second["name"]])
    with relay.engine.connect() as db:
        assert report.box_rows(db)[0]["pending"] == 0
    assert (await box.sync())["downloads"] == []


@pytest.mark.gen_test(timeout=30)
async def test_malformed_sync_requests_get_clear_errors(relay):
    box = await relay.register("goma")
    headers = {"Authorization": f"Bearer {box.token}", "Content-Type": "application/json"}
    cases = [b"{not json", b"[]", json.dumps({"received": "x"}).encode(),
             json.dumps({"outgoing": {"size": -1}}).encode(), json.dumps({"outgoing": {"size": 10**12}}).encode()]
    for body in cases:
        response = await relay.request("/api/v1/sync", body=body, headers=headers)
        assert response.code == 400 and json.loads(response.body)["error"]
    too_big = await relay.request("/api/v1/sync", body=b" " * 70_000, headers=headers)
    assert too_big.code == 413
    await box.sync()  # the relay is still fine


@pytest.mark.gen_test(timeout=30)
async def test_background_preparation_and_unreadable_mail_lose_nothing(relay, tmp_path):
    from pouch.records import BlobRecord
    from relay.inbound import preparation

    box = await relay.register("goma")
    await deliver(relay, "marie@goma.relay.test", subject="prepared ahead")
    assert preparation.prepare_some(relay.engine) == 1 and preparation.prepare_some(relay.engine) == 0
    unreadable = b"  \r\n \r\n"
    response = await relay.webhook({"email": unreadable, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
    assert response.code == 200

    _, records = await box.receive(tmp_path)
    assert sorted(subjects(records)) == ["(a message that could not be read)", "prepared ahead"]
    assert unreadable in [r.data for r in records if isinstance(r, BlobRecord)]


@pytest.mark.gen_test(timeout=30)
async def test_a_box_learns_the_key_that_seals_account_settings_at_registration_or_by_asking(relay):
    code = relay.add_box("bunia")
    registered = json.loads((await relay.post_json("/api/v1/register", {"code": code})).body)
    key = base64.b64decode(registered["account_key"])
    box = BoxClient(relay, registered["token"])

    assert "account_key" not in await box.sync()  # every byte of a sync costs: only when asked
    asked = await relay.post_json("/api/v1/sync", {"want_account_key": True}, box.token)
    assert base64.b64decode(json.loads(asked.body)["account_key"]) == key
    private, _ = keys.account_keys(relay.settings)
    assert sealing.unseal(private, sealing.seal(key, {"password": "pw"})) == {"password": "pw"}
