"""Sending through SendGrid v3 Mail Send (the stand-in): once, with retries, and the fate back to the box."""

import base64
import json
import random

import pytest
import sqlalchemy as sa

from pouch import mime
from pouch.blobs.transfer import PermanentTransferError
from pouch.records import STATUS_FAILED, STATUS_SENT, MessageRecord, StatusRecord
from relay.schema import outbound
from tests.relay.conftest import email_bytes, pouch_bytes


@pytest.fixture
def relay_overrides(sendgrid_standin):
    return {"outbound_transport": "sendgrid", "outbound_sendgrid_api_key": sendgrid_standin.api_key,
            "outbound_sendgrid_host": sendgrid_standin.url, "outbound_max_attempts": 4}


def outgoing(record_id, to, **message):
    parsed = mime.parse(email_bytes(to, sender="marie@goma.relay.test", **message), record_id)
    return parsed.record, parsed.blobs


def statuses(records):
    return {r.message_id: (r.state, r.reason) for r in records if isinstance(r, StatusRecord)}


@pytest.mark.gen_test(timeout=60)
async def test_message_goes_out_once_and_its_status_comes_back(relay, sendgrid_standin, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    photo = bytes(range(256)) * 100
    message = outgoing("m-1", ["friend@example.com", "jean@bukavu.relay.test"], cc=["boss@example.net"],
                       subject="Photos", attachments=[("photo.jpg", "image/jpeg", photo)])
    name, answer = await goma.send(tmp_path, [message])
    assert answer["accepted"] == [name]
    # The same upload announced again, and the same message in a new pouch: nothing new is queued.
    assert (await goma.sync(uploaded=[name]))["accepted"] == [name]
    await goma.send(tmp_path, [message])
    await relay.send_all()

    [body] = sendgrid_standin.accepted
    assert body["personalizations"] == [{"to": [{"email": "friend@example.com"}],
                                         "cc": [{"email": "boss@example.net"}]}]
    assert body["subject"] == "Photos" and body["from"] == {"email": "marie@goma.relay.test"}
    [attachment] = body["attachments"]
    assert base64.b64decode(attachment["content"]) == photo and attachment["filename"] == "photo.jpg"

    _, bukavu_records = await bukavu.receive(tmp_path)  # the local recipient's copy never left the relay
    assert [r.subject for r in bukavu_records if isinstance(r, MessageRecord)] == ["Photos"]
    _, goma_records = await goma.receive(tmp_path)
    assert statuses(goma_records) == {"m-1": (STATUS_SENT, "")}


@pytest.mark.gen_test(timeout=60)
async def test_429_and_5xx_are_retried_then_sent_once(relay, sendgrid_standin, tmp_path):
    goma = await relay.register("goma")
    sendgrid_standin.answer_next(429, 500, 503)
    await goma.send(tmp_path, [outgoing("m-2", "friend@example.com")])
    await relay.send_all()
    assert len(sendgrid_standin.accepted) == 1
    with relay.engine.connect() as db:
        row = db.execute(sa.select(outbound.c.state, outbound.c.attempts)).one()
    assert (row.state, row.attempts) == ("sent", 4)


@pytest.mark.gen_test(timeout=60)
async def test_other_4xx_fail_at_once_and_exhausted_retries_fail(relay, sendgrid_standin, tmp_path):
    goma = await relay.register("goma")
    sendgrid_standin.answer_next(403)
    await goma.send(tmp_path, [outgoing("m-3", "friend@example.com")])
    await relay.send_all()
    sendgrid_standin.answer_next(500, 500, 500, 500)
    await goma.send(tmp_path, [outgoing("m-4", "other@example.com", subject="Again")])
    await relay.send_all()
    assert sendgrid_standin.accepted == []

    _, records = await goma.receive(tmp_path)
    fates = statuses(records)
    assert fates["m-3"][0] == STATUS_FAILED and "SendGrid 403" in fates["m-3"][1]
    assert fates["m-4"][0] == STATUS_FAILED and "gave up after 4 attempts" in fates["m-4"][1]


@pytest.mark.gen_test(timeout=60)
async def test_a_message_sendgrid_would_refuse_is_a_permanent_failure(relay, sendgrid_standin, tmp_path):
    goma = await relay.register("goma")
    record, blobs = outgoing("m-5", "friend@example.com")
    record.reply_to = [("", "not-an-address")]
    await goma.send(tmp_path, [(record, blobs)])
    await relay.send_all()
    [(_, errors)] = sendgrid_standin.invalid
    assert errors[0][0] == "reply_to.email"
    _, records = await goma.receive(tmp_path)
    assert statuses(records)["m-5"][0] == STATUS_FAILED


@pytest.mark.gen_test(timeout=60)
async def test_blind_copies_do_not_see_each_other(relay, sendgrid_standin, tmp_path):
    goma = await relay.register("goma")
    record, blobs = outgoing("m-6", "colleague@goma.relay.test", subject="Blind")
    record.bcc = [("", "one@example.com"), ("", "two@example.org")]
    await goma.send(tmp_path, [(record, blobs)])
    await relay.send_all()
    [body] = sendgrid_standin.accepted
    assert body["personalizations"] == [{"to": [{"email": "one@example.com"}]},
                                        {"to": [{"email": "two@example.org"}]}]


@pytest.mark.gen_test(timeout=60)
async def test_workers_of_several_processes_share_the_queue_without_sending_twice(relay, sendgrid_standin,
                                                                                 tmp_path):
    import asyncio
    from pouch.runtime.database import create_engine
    from relay.outbound.transports import make_transport
    from relay.outbound.worker import Worker

    goma = await relay.register("goma")
    await goma.send(tmp_path, [outgoing(f"w-{n}", f"friend{n}@example.com", subject=f"w-{n}") for n in range(30)])
    sendgrid_standin.delay_s = 0.005
    engines = [create_engine(relay.settings.relay.database) for _ in range(3)]  # one per "process"
    workers = [Worker(engine, make_transport(relay.settings), relay.settings.outbound)
               for engine in engines]

    def drain(worker):
        while worker.run_once():
            pass

    await asyncio.gather(*(asyncio.to_thread(drain, worker) for worker in workers))
    for engine in engines:
        engine.dispose()
    assert sorted(body["subject"] for body in sendgrid_standin.accepted) == sorted(f"w-{n}" for n in range(30))


@pytest.mark.gen_test(timeout=60)
async def test_a_send_cut_off_by_a_dead_process_is_reported_not_repeated(relay, sendgrid_standin, tmp_path):
    from relay.outbound import queue

    goma = await relay.register("goma")
    await goma.send(tmp_path, [outgoing("m-7", "friend@example.com", subject="Cut off")])
    [claimed] = queue.claim(relay.engine, limit=10, lease_s=-1)  # its process "dies" before finishing
    await relay.send_all()
    assert sendgrid_standin.accepted == []
    _, records = await goma.receive(tmp_path)
    state, reason = statuses(records)[claimed.record_id]
    assert state == STATUS_FAILED and "may or may not have left" in reason


@pytest.mark.gen_test(timeout=60)
async def test_a_message_missing_its_attachment_fails_alone(relay, sendgrid_standin, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    broken, _ = outgoing("m-8", "jean@bukavu.relay.test", subject="Broken",
                         attachments=[("a.bin", "application/octet-stream", b"lost")])
    fine = outgoing("m-9", "jean@bukavu.relay.test", subject="Fine")
    name, answer = await goma.send(tmp_path, [(broken, {}), fine])  # the pouch lacks m-8's blob
    assert answer["accepted"] == [name]
    _, records = await bukavu.receive(tmp_path)
    assert [r.subject for r in records if isinstance(r, MessageRecord)] == ["Fine"]
    _, records = await goma.receive(tmp_path)
    fates = statuses(records)
    assert fates["m-9"][0] == STATUS_SENT
    assert fates["m-8"][0] == STATUS_FAILED and "missing" in fates["m-8"][1]


@pytest.mark.parametrize("relay_overrides", [{"sync_max_upload_bytes": 4000}])
@pytest.mark.gen_test(timeout=60)
async def test_uploads_over_the_limit_or_with_odd_ids_are_refused_clearly(relay, tmp_path):
    goma = await relay.register("goma")
    noise = random.Random(1).randbytes(6000)  # does not compress
    bulky = outgoing("m-10", "friend@example.com", attachments=[("r.bin", "application/octet-stream", noise)])
    data = pouch_bytes([bulky])
    refused = await relay.post_json("/api/v1/sync", {"outgoing": {"size": len(data)}}, goma.token)
    assert refused.code == 400 and "limit of 4000" in json.loads(refused.body)["error"]
    answer = await goma.sync(outgoing={"size": 100})  # a box that announces less than it uploads
    (tmp_path / "bulky.pouch").write_bytes(data)
    with pytest.raises(PermanentTransferError, match="413 .*the size declared for this upload"):
        await goma.transfer.upload(answer["upload"]["url"], tmp_path / "bulky.pouch")
    odd, twice = outgoing("x" * 300, "friend@example.com"), outgoing("m-11", "friend@example.com")
    name, answer = await goma.send(tmp_path, [odd, twice, twice])
    assert answer["accepted"] == [name]
    await relay.send_all()
    with relay.engine.connect() as db:
        assert db.execute(sa.select(outbound.c.record_id)).scalars().all() == ["m-11"]


@pytest.mark.gen_test(timeout=60)
async def test_a_file_whose_type_is_no_type_goes_out_as_sendgrid_takes_it(relay, sendgrid_standin, tmp_path):
    """A type an older box kept as a phone gave it, a name with a line break, inline with no
    Content-ID: before, SendGrid refused the whole message for each."""
    goma = await relay.register("goma")
    record, blobs = outgoing("m-10", "friend@example.com", subject="Menu",
                             attachments=[("menu.pdf", "application/pdf", b"%PDF-1.4")])
    [attachment] = record.attachments
    attachment.type, attachment.name = "garbage", "../menu\r\n.pdf"
    attachment.inline, attachment.cid = True, None  # inline with no Content-ID, as Apple Mail writes
    await goma.send(tmp_path, [(record, blobs)])
    await relay.send_all()
    [body] = sendgrid_standin.accepted
    assert [(a["filename"], a["type"], a["disposition"]) for a in body["attachments"]] == [
        ("menu.pdf", "application/octet-stream", "attachment")]
    _, records = await goma.receive(tmp_path)
    assert statuses(records) == {"m-10": (STATUS_SENT, "")}
