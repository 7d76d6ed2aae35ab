"""Big attachments on request (issue 16, part 2): what is over the box's automatic limit comes down
as a placeholder (name, type, size; a preview of an image), and its bytes come with the sync after
the box asks for them, once, for that box only."""

import io
import os
from email.message import EmailMessage

import pytest
from PIL import Image

from pouch.records import (REQUEST_ATTACHMENT, REQUEST_ORIGINAL, BlobRecord, BoxSettingsRecord, MessageRecord,
                           RefusalRecord, RequestRecord)
from tests.relay.conftest import deliver
from tests.relay.test_retention import clear
from tests.support import inbound_parse
from tests.support.photos import phone_photo

LIMIT = 100 * 1024  # the box's automatic limit in these tests: a phone photo, even shrunk, is over it
PDF = b"%PDF-1.4\n" + os.urandom(600 * 1024)
SMALL = os.urandom(20_000)  # incompressible, so the pouch's bytes tell what came


@pytest.fixture
def relay_overrides(relay_overrides):
    return dict(relay_overrides, sync_attachment_limit=LIMIT)


@pytest.fixture(scope="module")
def photo():
    data = phone_photo(quality=97)
    assert len(data) > 3_000_000  # as a good phone camera writes it
    return data


def messages(records):
    return [r for r in records if isinstance(r, MessageRecord)]


def blobs(records):
    return {r.sha256: r.data for r in records if isinstance(r, BlobRecord)}


async def mail_with_big_attachments(relay, box, tmp_path, photo, to="marie@goma.relay.test"):
    """Post a message with a PDF, a photo and a small file; returns (its record, the pouches' offers)."""
    await deliver(relay, to, subject="the contract", attachments=[
        ("contract.pdf", "application/pdf", PDF), ("site.jpg", "image/jpeg", photo),
        ("notes.bin", "application/octet-stream", SMALL)])
    answer = await box.sync()
    records = [r for offer in answer["downloads"] for r in await box.fetch(tmp_path, offer)]
    await box.sync(received=[offer["name"] for offer in answer["downloads"]])
    [record] = messages(records)
    return record, answer["downloads"], records


async def asked(box, tmp_path, record, *digests, **options):
    """``ask``, then fetch and ack what the answer offers: (the blobs that came, {(message id,
    sha256): the reason} of the RefusalRecords that came instead)."""
    answer = await ask(box, tmp_path, record, *digests, **options)
    records = [r for offer in answer["downloads"] for r in await box.fetch(tmp_path, offer)]
    await box.sync(received=[offer["name"] for offer in answer["downloads"]])
    return blobs(records), {(r.message_id, r.sha256): r.reason for r in records if isinstance(r, RefusalRecord)}


def by_name(record):
    return {attachment.name.rsplit(".", 1)[0]: attachment for attachment in record.attachments}


async def ask(box, tmp_path, record, *digests, message_id=None, what=REQUEST_ATTACHMENT):
    """Upload a pouch of requests for ``digests`` of ``record`` (or of ``message_id``)."""
    requests = [(RequestRecord(what, message_id or record.id, digest, user="marie"), {})
                for digest in digests]
    name, answer = await box.send(tmp_path, requests)
    assert answer["accepted"] == [name], answer  # a request refused is never an error for the upload
    return answer


@pytest.mark.gen_test(timeout=60)
async def test_big_attachments_come_as_placeholders_and_the_small_one_whole(relay, tmp_path, photo):
    box = await relay.register("goma")
    record, offers, records = await mail_with_big_attachments(relay, box, tmp_path, photo)

    attachments = by_name(record)
    pdf, image, small = attachments["contract"], attachments["site"], attachments["notes"]
    assert (pdf.held, pdf.type, pdf.size, pdf.preview) == (True, "application/pdf", len(PDF), b"")
    assert image.held and image.type.startswith("image/") and image.size > LIMIT
    assert 0 < len(image.preview) <= 4096
    assert max(Image.open(io.BytesIO(image.preview)).size) <= 160  # an image a page can show
    assert not small.held and small.size == len(SMALL)
    assert blobs(records) == {small.sha256: SMALL}  # only the small one's bytes came
    assert sum(offer["size"] for offer in offers) < len(SMALL) + 8_000  # text, a preview, the small file


@pytest.mark.gen_test(timeout=60)
async def test_a_request_brings_exactly_that_attachment_in_the_next_sync_once(relay, tmp_path, photo):
    box = await relay.register("goma")
    record, _, _ = await mail_with_big_attachments(relay, box, tmp_path, photo)
    pdf = by_name(record)["contract"]

    answer = await ask(box, tmp_path, record, pdf.sha256)
    assert len(answer["downloads"]) == 1
    records = await box.fetch(tmp_path, answer["downloads"][0])
    assert records == [BlobRecord(pdf.sha256, PDF)]  # nothing else: no record again, no other blob
    assert len(PDF) < answer["downloads"][0]["size"] < len(PDF) + 2_000

    await box.sync(received=[answer["downloads"][0]["name"]])
    assert (await ask(box, tmp_path, record, pdf.sha256))["downloads"] == []  # asked twice, served once
    assert (await box.sync())["downloads"] == []


@pytest.mark.gen_test(timeout=60)
async def test_a_request_unacked_comes_again_and_the_photo_can_be_asked_for_too(relay, tmp_path, photo):
    box = await relay.register("goma")
    record, _, _ = await mail_with_big_attachments(relay, box, tmp_path, photo)
    image = by_name(record)["site"]

    first = (await ask(box, tmp_path, record, image.sha256))["downloads"]
    again = (await box.sync())["downloads"]  # the box did not ack: the same pouch again
    assert [offer["name"] for offer in again] == [offer["name"] for offer in first]
    [blob] = await box.fetch(tmp_path, again[0])
    assert blob.sha256 == image.sha256 and len(blob.data) == image.size
    Image.open(io.BytesIO(blob.data)).verify()
    await box.sync(received=[again[0]["name"]])
    assert (await box.sync())["downloads"] == []


@pytest.mark.gen_test(timeout=60)
async def test_requests_for_another_boxs_mail_unknown_ids_or_digests_bring_nothing(relay, tmp_path, photo):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    record, _, _ = await mail_with_big_attachments(relay, goma, tmp_path, photo)
    pdf, small = by_name(record)["contract"], by_name(record)["notes"]

    # Nothing comes of a wrong request; the box hears why, of its own requests only.
    no_such = "this message has no attachment held back with that sha256"
    assert await asked(bukavu, tmp_path, record, pdf.sha256) == (
        {}, {(record.id, pdf.sha256): f"no message {record.id!r} came to this box"})  # goma's message
    wrong = os.urandom(32)
    assert await asked(goma, tmp_path, record, wrong, small.sha256) == (
        {}, {(record.id, wrong): no_such, (record.id, small.sha256): no_such})  # small: not held back
    assert await asked(goma, tmp_path, record, pdf.sha256, message_id="99999") == (
        {}, {("99999", pdf.sha256): "no message '99999' came to this box"})
    assert await asked(goma, tmp_path, record, pdf.sha256, message_id="not a number") == (
        {}, {("not a number", pdf.sha256): "no message 'not a number' came to this box"})
    # The same box asking rightly still gets it, whatever it asks wrongly beside.
    assert await asked(goma, tmp_path, record, wrong, pdf.sha256, pdf.sha256) == (
        {pdf.sha256: PDF}, {(record.id, wrong): no_such})


@pytest.mark.gen_test(timeout=60)
async def test_the_original_of_a_shrunk_photo_comes_when_asked_for(relay, tmp_path, photo):
    box = await relay.register("goma")
    record, _, records = await mail_with_big_attachments(relay, box, tmp_path, photo)
    image = by_name(record)["site"]
    assert image.original_size == len(photo) and image.original_sha256 not in blobs(records)

    [offer] = (await ask(box, tmp_path, record, image.original_sha256, what=REQUEST_ORIGINAL))["downloads"]
    assert await box.fetch(tmp_path, offer) == [BlobRecord(image.original_sha256, photo)]
    await box.sync(received=[offer["name"]])
    wrong = os.urandom(32)
    assert await asked(box, tmp_path, record, wrong, what=REQUEST_ORIGINAL) == (
        {}, {(record.id, wrong): "this message has no original with that sha256 on the relay"})


@pytest.mark.gen_test(timeout=60)
async def test_the_boxs_limit_and_a_users_lower_one_decide_what_is_held(relay, tmp_path):
    box = await relay.register("goma")
    settings = BoxSettingsRecord(spam_threshold=5.0, attachment_limit=1024 * 1024,
                                 user_limits={"marie@goma.relay.test": 50_000})
    name, answer = await box.send(tmp_path, [(settings, {})])
    assert answer["accepted"] == [name]

    for subject, to in [("for marie", ["marie@goma.relay.test"]), ("for amani", ["amani@goma.relay.test"]),
                        ("for both", ["marie@goma.relay.test", "amani@goma.relay.test"])]:
        await deliver(relay, to, subject=subject, attachments=[("contract.pdf", "application/pdf", PDF)])
    _, records = await box.receive(tmp_path)
    held = {r.subject: r.attachments[0].held for r in messages(records)}
    # Marie chose less for herself; mail for her and someone who did not comes as he wants it.
    assert held == {"for marie": True, "for amani": False, "for both": False}
    assert list(blobs(records).values()) == [PDF]  # once for the two messages that carry it


@pytest.mark.parametrize("relay_overrides", [{"sync_attachment_limit": LIMIT, "sync_big_message_bytes": 50_000}])
@pytest.mark.gen_test(timeout=60)
async def test_big_mail_still_sends_what_comes_by_itself_later_and_never_what_is_held(relay, tmp_path, photo):
    box = await relay.register("goma")
    scans = [os.urandom(60_000), os.urandom(70_000)]  # under the limit, together over big_message_bytes
    await deliver(relay, "marie@goma.relay.test", subject="scans", attachments=[
        ("scan1.bin", "application/octet-stream", scans[0]), ("scan2.bin", "application/octet-stream", scans[1]),
        ("site.jpg", "image/jpeg", photo)])
    first, second = (await box.sync())["downloads"]
    records = await box.fetch(tmp_path, first)
    assert blobs(records) == {} and [a.held for a in messages(records)[0].attachments] == [False, False, True]
    assert sorted(blobs(await box.fetch(tmp_path, second)).values()) == sorted(scans)
    assert second["size"] < sum(map(len, scans)) + 2_000
    await box.sync(received=[first["name"], second["name"]])
    assert (await box.sync())["downloads"] == []


@pytest.mark.gen_test(timeout=60)
async def test_an_inline_image_of_the_html_counts_like_any_attachment(relay, tmp_path, photo):
    box = await relay.register("goma")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "ami@example.org", "marie@goma.relay.test", "Inline"
    mail.set_content("See the site.")
    mail.add_alternative('<p>See <img src="cid:site@example.org"></p>', subtype="html")
    mail.get_payload()[1].add_related(photo, "image", "jpeg", cid="<site@example.org>", disposition="inline",
                                     filename="site.jpg")
    response = await relay.webhook(inbound_parse.raw_fields(mail.as_bytes(), ["marie@goma.relay.test"]))
    assert response.code == 200

    _, records = await box.receive(tmp_path)
    [record] = messages(records)
    [image] = record.attachments
    assert image.cid == "site@example.org" and "cid:site@example.org" in record.body
    assert image.held and 0 < len(image.preview) <= 4096 and blobs(records) == {}


@pytest.mark.gen_test(timeout=60)
async def test_what_a_box_asked_for_is_kept_until_it_has_it_and_refused_once_retention_cleared_it(
        relay, tmp_path, photo):
    box = await relay.register("goma")
    record, _, _ = await mail_with_big_attachments(relay, box, tmp_path, photo)
    pdf, image = by_name(record)["contract"], by_name(record)["site"]
    [offer] = (await ask(box, tmp_path, record, pdf.sha256))["downloads"]

    assert clear(relay, 30) == 0  # long past keep_days, but the box has not acked what it asked for
    await box.sync(received=[offer["name"]])
    assert clear(relay, 30) == 1
    assert await asked(box, tmp_path, record, image.sha256) == ({}, {(record.id, image.sha256): (  # bytes gone
        "the relay no longer keeps this message's attachments (its retention period is over)")})
