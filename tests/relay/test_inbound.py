"""Inbound mail: SendGrid Inbound Parse (raw and parsed), SMTP; stored, then queued per box."""

import asyncio
import base64
import json
import smtplib
import time

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pouch.records import BlobRecord, MessageRecord
from relay import smtp
from relay.schema import deliveries, inbound
from tests.relay.conftest import email_bytes
from tests.support.azurite import free_port


def envelope(*to, sender="ami@example.org"):
    return json.dumps({"to": list(to), "from": sender})


def stored_count(relay):
    with relay.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(inbound)).scalar()


def messages(records):
    return [r for r in records if isinstance(r, MessageRecord)]


@pytest.mark.gen_test(timeout=30)
async def test_raw_mode_message_reaches_its_box(relay, tmp_path):
    box = await relay.register("goma")
    raw = email_bytes("marie@goma.relay.test", subject="Raw mode", body="Bonjour Marie")
    response = await relay.webhook({"email": raw, "envelope": envelope("marie@goma.relay.test")})
    assert response.code == 200

    _, records = await box.receive(tmp_path)
    [message] = messages(records)
    assert message.subject == "Raw mode" and "Bonjour Marie" in message.body
    assert message.recipients == ["marie@goma.relay.test"]
    with relay.engine.connect() as db:  # the raw MIME is kept as it came
        assert db.execute(sa.select(inbound.c.raw)).scalar() == raw


@pytest.mark.gen_test(timeout=30)
async def test_parsed_mode_is_reassembled_with_its_attachments(relay, tmp_path):
    box = await relay.register("goma")
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 40
    headers = ("From: Ami <ami@example.org>\nTo: marie@goma.relay.test\nSubject: Parsed\n"
               "Message-ID: <p1@example.org>\nContent-Type: multipart/mixed; boundary=zz\n")
    response = await relay.webhook(
        {"headers": headers, "text": "Voici le rapport.", "html": "<p>Voici le <b>rapport</b>.</p>",
         "from": "Ami <ami@example.org>", "to": "marie@goma.relay.test", "subject": "Parsed",
         "envelope": envelope("marie@goma.relay.test"), "charsets": json.dumps({"text": "utf-8"}),
         "attachments": "1",
         "attachment-info": json.dumps({"attachment1": {"filename": "rapport.pdf", "type": "application/pdf"}})},
        files={"attachment1": ("rapport.pdf", "application/pdf", pdf)})
    assert response.code == 200, response.body

    _, records = await box.receive(tmp_path)
    [message] = messages(records)
    assert message.subject == "Parsed" and "rapport" in message.body
    [attachment] = message.attachments
    assert attachment.name == "rapport.pdf"
    blobs = {r.sha256: r.data for r in records if isinstance(r, BlobRecord)}
    assert blobs[attachment.sha256] == pdf


@pytest.mark.gen_test(timeout=30)
async def test_mail_for_two_boxes_is_queued_once_for_each(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    to = ["a@goma.relay.test", "b@goma.relay.test", "c@bukavu.relay.test", "d@elsewhere.example"]
    raw = email_bytes(to, subject="For both")
    assert (await relay.webhook({"email": raw, "envelope": envelope(*to)})).code == 200

    _, goma_records = await goma.receive(tmp_path)
    _, bukavu_records = await bukavu.receive(tmp_path)
    assert [m.recipients for m in messages(goma_records)] == [["a@goma.relay.test", "b@goma.relay.test"]]
    assert [m.recipients for m in messages(bukavu_records)] == [["c@bukavu.relay.test"]]
    assert stored_count(relay) == 1


@pytest.mark.gen_test(timeout=30)
async def test_shared_domain_directory_routes_by_address(relay, tmp_path):
    from relay import boxes
    box = await relay.register("uvira")
    boxes.add_address(relay.engine, "uvira", "Jean@Shared.Example")
    raw = email_bytes("jean@shared.example")
    assert (await relay.webhook({"email": raw, "envelope": envelope("jean@shared.example")})).code == 200
    response = await relay.webhook({"email": raw, "envelope": envelope("paul@shared.example")})
    assert response.code == 404
    _, records = await box.receive(tmp_path)
    assert [m.recipients for m in messages(records)] == [["jean@shared.example"]]


@pytest.mark.gen_test(timeout=30)
async def test_webhook_refusals_store_nothing(relay):
    await relay.register("goma")
    raw = email_bytes("marie@goma.relay.test")
    fields = {"email": raw, "envelope": envelope("marie@goma.relay.test")}
    assert (await relay.webhook(fields, auth=None)).code == 401
    assert (await relay.webhook(fields, auth=("sendgrid", "wrong"))).code == 401
    unknown = await relay.webhook({"email": raw, "envelope": envelope("nobody@nowhere.example")})
    assert unknown.code == 404 and "nobody@nowhere.example" in json.loads(unknown.body)["error"]
    garbage = await relay.request("/inbound/sendgrid", body=b"not a form", auth=("sendgrid", "webhook-secret"),
                                  headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert garbage.code == 400
    assert stored_count(relay) == 0


@pytest.mark.parametrize("relay_overrides", [{"inbound_max_message_bytes": 50_000}])
@pytest.mark.gen_test(timeout=30)
async def test_oversized_posts_get_a_clear_413(relay):
    await relay.register("goma")
    big = email_bytes("marie@goma.relay.test", body="x" * 60_000)
    response = await relay.webhook({"email": big, "envelope": envelope("marie@goma.relay.test")})
    assert response.code == 413 and "limit" in json.loads(response.body)["error"]
    huge = await relay.webhook({"email": b"y" * 2_000_000, "envelope": envelope("marie@goma.relay.test")})
    assert huge.code == 413
    assert stored_count(relay) == 0


def signing_key():
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode()


PRIVATE_KEY, PUBLIC_KEY = signing_key()


@pytest.mark.parametrize("relay_overrides", [{"inbound_sendgrid_public_key": PUBLIC_KEY}])
@pytest.mark.gen_test(timeout=30)
async def test_signed_webhooks_are_verified(relay):
    from tests.relay.conftest import multipart
    await relay.register("goma")
    body, content_type = multipart({"email": email_bytes("marie@goma.relay.test"),
                                    "envelope": envelope("marie@goma.relay.test")}, {})
    timestamp = str(int(time.time()))
    good = base64.b64encode(PRIVATE_KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    auth = ("sendgrid", "webhook-secret")

    async def post(signature):
        headers = {"Content-Type": content_type, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp}
        if signature:
            headers["X-Twilio-Email-Event-Webhook-Signature"] = signature
        return await relay.request("/inbound/sendgrid", body=body, auth=auth, headers=headers)

    assert (await post(None)).code == 403
    assert (await post(base64.b64encode(b"0" * 70).decode())).code == 403
    assert stored_count(relay) == 0
    assert (await post(good)).code == 200
    assert stored_count(relay) == 1


@pytest.mark.gen_test(timeout=30)
async def test_smtp_listener_refuses_strangers_and_stores_mail(relay, tmp_path):
    box = await relay.register("goma")
    port = free_port()
    server = await smtp.start(relay.engine, "127.0.0.1", port, 100_000, "relay.test")

    def deliver():
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail("ami@example.org", ["x@unknown.example"], b"Subject: no\r\n\r\nno\r\n")
            assert refused.value.recipients["x@unknown.example"][0] == 550
            with pytest.raises(smtplib.SMTPResponseException) as too_big:  # at MAIL (SIZE) or DATA
                client.sendmail("ami@example.org", ["marie@goma.relay.test"],
                                email_bytes("marie@goma.relay.test", body="x" * 150_000))
            assert too_big.value.smtp_code == 552
            raw = email_bytes("marie@goma.relay.test", subject="By SMTP")
            return client.sendmail("ami@example.org", ["marie@goma.relay.test", "x@unknown.example"], raw)

    refused = await asyncio.to_thread(deliver)
    server.close()
    assert list(refused) == ["x@unknown.example"]
    _, records = await box.receive(tmp_path)
    assert [m.subject for m in messages(records)] == ["By SMTP"]
    with relay.engine.connect() as db:
        assert db.execute(sa.select(deliveries.c.recipients)).scalar() == '["marie@goma.relay.test"]'


@pytest.mark.gen_test(timeout=30)
async def test_malformed_parsed_mode_posts_get_4xx_or_are_kept_never_500(relay, tmp_path):
    box = await relay.register("goma")
    to = envelope("marie@goma.relay.test")
    posts = [
        {"headers": "Subject: folded\n  header\nX-Odd: \x00\x01\n", "envelope": to, "text": "one"},
        {"headers": "not a header at all", "envelope": to, "charsets": "{not json"},
        {"headers": "Subject: x", "envelope": "[1, 2]", "to": "marie@goma.relay.test", "text": "three"},
        {"headers": "Subject: x", "envelope": to, "attachment-info": "{\"attachment1\": 5}", "html": "<p>4"},
        {"envelope": to},
        {"headers": "Subject: charset", "envelope": to, "text": b"\xff\xfe caf\xe9",
         "charsets": json.dumps({"text": "no-such-charset"})},
    ]
    codes = [(await relay.webhook(fields)).code for fields in posts]
    assert all(code in (200, 400) for code in codes), codes
    assert codes.count(200) >= 3
    _, records = await box.receive(tmp_path)
    assert len(messages(records)) == codes.count(200)  # every post answered 200 reached the box
