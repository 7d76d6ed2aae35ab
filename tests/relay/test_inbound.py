"""Inbound mail: SendGrid Inbound Parse (raw and parsed), SMTP; stored, then queued per box."""

import asyncio
import base64
import dataclasses
import json
import smtplib
import time

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pouch.runtime.database import create_engine
from pouch.limits import MAX_RECIPIENTS
from pouch.records import BlobRecord, MessageRecord
from relay.inbound import smtp
from relay.inbound.store import GroupCommit, forget_some
from relay.schema import deliveries, inbound, inbound_once
from tests.relay.conftest import email_bytes
from tests.support import inbound_parse
from tests.support.azurite import free_port


def envelope(*to, sender="ami@example.org"):
    return inbound_parse.envelope(to, sender)


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
    server = await smtp.start(relay.engine, smtp_settings(relay, port, 100_000))

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


def smtp_settings(relay, port, max_message_bytes=1_000_000):
    return dataclasses.replace(relay.settings, inbound=dataclasses.replace(
        relay.settings.inbound, smtp_host="127.0.0.1", smtp_port=port, max_message_bytes=max_message_bytes))


async def post_all(relay, bodies):
    """Post webhook ``bodies`` (fields dicts) at once, as SendGrid's retries arrive: several land
    in one group commit."""
    return await asyncio.gather(*(relay.webhook(fields) for fields in bodies))


# Exactly once (issue 13, item 2)

@pytest.mark.gen_test(timeout=60)
async def test_the_same_20_bodies_posted_twice_are_20_deliveries(relay, tmp_path):
    box = await relay.register("goma")
    to = "marie@goma.relay.test"
    bodies = [inbound_parse.raw_fields(email_bytes(to, subject=f"Retry {n}", body=f"n{n}"), [to]) for n in range(20)]
    # The retries of the first ten arrive together with their first copies (one group commit).
    first = await post_all(relay, bodies + bodies[:10])
    again = await post_all(relay, bodies)
    answers = [json.loads(response.body) for response in first + again]
    assert [response.code for response in first + again] == [200] * 50  # SendGrid stops retrying
    assert sum(not answer["repeat"] for answer in answers) == 20

    _, records = await box.receive(tmp_path)
    assert sorted(m.subject for m in messages(records)) == sorted(f"Retry {n}" for n in range(20))
    assert stored_count(relay) == 20
    _, later = await box.receive(tmp_path)
    assert messages(later) == []


@pytest.mark.gen_test(timeout=60)
async def test_two_relay_processes_storing_the_same_retries_deliver_each_once(relay, settings, tmp_path):
    box = await relay.register("goma")
    other = create_engine(settings.relay.database)  # the second process's own connections
    processes = [GroupCommit(relay.engine), GroupCommit(other)]
    to = ["marie@goma.relay.test"]
    raws = [email_bytes(to[0], subject=f"Race {n}") for n in range(20)]
    try:
        results = await asyncio.gather(*(process.store(raw, to, "sendgrid") for raw in raws for process in processes))
    finally:
        other.dispose()
    assert sum(bool(routed) for routed in results) == 20
    _, records = await box.receive(tmp_path)
    assert sorted(m.subject for m in messages(records)) == sorted(f"Race {n}" for n in range(20))


@pytest.mark.gen_test(timeout=60)
async def test_a_message_is_one_delivery_per_recipient_whoever_else_it_goes_to(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    raw = email_bytes(["marie@goma.relay.test"], subject="Convocation")
    assert (await relay.webhook(inbound_parse.raw_fields(raw, ["marie@goma.relay.test"]))).code == 200
    # The same Message-ID again, now also for Jean and a Bukavu user (a list resending it, say).
    resent = raw.replace(b"Subject: Convocation", b"Subject: Convocation (resent)")
    everyone = ["marie@goma.relay.test", "jean@goma.relay.test", "paul@bukavu.relay.test"]
    assert (await relay.webhook(inbound_parse.raw_fields(resent, everyone))).code == 200

    _, goma_records = await goma.receive(tmp_path)
    _, bukavu_records = await bukavu.receive(tmp_path)
    assert sorted(m.recipients for m in messages(goma_records)) == [
        ["jean@goma.relay.test"], ["marie@goma.relay.test"]]
    assert [m.recipients for m in messages(bukavu_records)] == [["paul@bukavu.relay.test"]]


@pytest.mark.gen_test(timeout=60)
async def test_mail_without_message_id_dedupes_by_its_bytes_within_the_window(relay, tmp_path):
    box = await relay.register("goma")
    to = ["marie@goma.relay.test"]
    raw = b"From: ami@example.org\r\nTo: marie@goma.relay.test\r\nSubject: sans id\r\n\r\nBonjour\r\n"
    other = raw.replace(b"Bonjour", b"Bonsoir")
    codes = [(await relay.webhook(inbound_parse.raw_fields(body, to))).code for body in (raw, raw, other)]
    assert codes == [200, 200, 200]
    _, records = await box.receive(tmp_path)
    assert sorted(m.body for m in messages(records)) == ["Bonjour", "Bonsoir"]

    # Past [inbound] dedupe_days, the same bytes are new mail again.
    window_s = relay.settings.inbound.dedupe_days * 86400
    with relay.engine.begin() as db:
        db.execute(inbound_once.update().values(seen_at=inbound_once.c.seen_at - window_s - 1))
    assert (await relay.webhook(inbound_parse.raw_fields(raw, to))).code == 200
    _, records = await box.receive(tmp_path)
    assert [m.body for m in messages(records)] == ["Bonjour"]
    assert forget_some(relay.engine, relay.settings.inbound.dedupe_days) == 1  # the other one


@pytest.mark.gen_test(timeout=60)
async def test_smtp_redelivery_is_one_delivery_and_smtp_caps_recipients_like_the_webhook(relay, tmp_path,
                                                                                         monkeypatch):
    box = await relay.register("goma")
    port = free_port()
    server = await smtp.start(relay.engine, smtp_settings(relay, port))
    raw = email_bytes("marie@goma.relay.test", subject="Par SMTP")
    many = [f"user{n}@goma.relay.test" for n in range(MAX_RECIPIENTS + 5)]

    def deliver():
        replies = []
        for _ in range(3):  # the sending server lost our 250 and tries again
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail("ami@example.org", ["marie@goma.relay.test"], raw)
                replies.append(client.noop()[0])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            client.mail("ami@example.org")
            codes = [client.rcpt(address)[0] for address in many]
            long_address = client.rcpt("x" * 400 + "@goma.relay.test")
        return replies, codes, long_address

    try:
        replies, codes, long_address = await asyncio.to_thread(deliver)
    finally:
        server.close()
    assert replies == [250, 250, 250]
    assert codes == [250] * MAX_RECIPIENTS + [452] * 5  # RFC 5321: the rest in another transaction
    assert long_address[0] == 553 and b"longer than 320" in long_address[1]
    _, records = await box.receive(tmp_path)
    assert [m.subject for m in messages(records)] == ["Par SMTP"]


@pytest.mark.gen_test(timeout=30)
async def test_smtp_errors_say_nothing_internal(relay, monkeypatch):
    await relay.register("goma")
    port = free_port()
    server = await smtp.start(relay.engine, smtp_settings(relay, port))

    def broken_route(db, recipients):
        raise RuntimeError("psycopg2 connection to 10.0.0.5 lost: secret detail")

    monkeypatch.setattr(smtp.boxes, "route", broken_route)

    def rcpt():
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo()
            client.mail("ami@example.org")
            return client.rcpt("marie@goma.relay.test")

    try:
        code, text = await asyncio.to_thread(rcpt)
    finally:
        server.close()
    assert code == 451 and b"secret" not in text and b"psycopg2" not in text and b"Error" not in text


# Parsed mode takes what SendGrid sends (issue 13, item 3)

def with_headers(raw, extra):
    """``raw`` with header lines ``extra`` (bytes) put first."""
    return extra + raw


@pytest.mark.gen_test(timeout=60)
async def test_parsed_mode_takes_hundreds_of_attachments(relay, tmp_path):
    box = await relay.register("goma")
    to = "marie@goma.relay.test"
    files = [(f"scan{n:03}.txt", "text/plain", f"page {n}".encode()) for n in range(340)]
    raw = email_bytes(to, subject="343 form parts", attachments=files)
    fields, uploads = inbound_parse.parsed_fields(raw, [to])
    assert len(fields) + len(uploads) > 343
    response = await relay.webhook(fields, uploads)
    assert response.code == 200, response.body

    _, records = await box.receive(tmp_path)
    [message] = messages(records)
    assert [a.name for a in message.attachments] == [name for name, _, _ in files]


EIGHT_BIT = ("Subject: Réunion à Kinshasa — ordre du jour\r\n"
             "From: Amélie Ngoy <amelie@example.org>\r\n").encode("utf-8")
LATIN_1 = "Subject: Réunion à Goma\r\nFrom: Élodie <elodie@example.org>\r\n".encode("latin-1")


@pytest.mark.parametrize("mode", ["raw", "parsed"])
@pytest.mark.gen_test(timeout=60)
async def test_headers_and_message_ids_arrive_whole_in_both_modes(relay, tmp_path, mode):
    box = await relay.register("goma")
    to = ["marie@goma.relay.test"]
    body = b"To: marie@goma.relay.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMbote\r\n"
    cases = {
        b"Message-ID: <two@at@example.org>\r\n" + EIGHT_BIT:
            ("two@at@example.org", "Réunion à Kinshasa — ordre du jour", "Amélie Ngoy"),
        b"Message-ID:\r\n <20261206.folded.\r\n rest-of-it@example.org>\r\n" + LATIN_1:
            ("20261206.folded.rest-of-it@example.org", "Réunion à Goma", "Élodie"),
        b"Message-ID: bare-id-1234@example.org\r\nSubject: bare\r\nFrom: a@example.org\r\n":
            ("bare-id-1234@example.org", "bare", ""),
        b"Message-ID: 1234567890\r\nSubject: bare, no at\r\nFrom: a@example.org\r\n":
            ("1234567890", "bare, no at", ""),
    }
    for header, _ in cases.items():
        raw = header + body
        post = inbound_parse.raw_fields(raw, to) if mode == "raw" else inbound_parse.parsed_fields(raw, to)
        fields, files = (post, {}) if mode == "raw" else post
        response = await relay.webhook(fields, files)
        assert response.code == 200, response.body

    _, records = await box.receive(tmp_path)
    got = sorted((m.message_id, m.subject, m.from_[0][0] if m.from_ else "") for m in messages(records))
    assert got == sorted(cases.values())
    assert all("Mbote" in m.body for m in messages(records))


# Inputs (issue 14, item 10)

@pytest.mark.gen_test(timeout=60)
async def test_fields_of_the_wrong_type_get_400_with_the_reason(relay):
    await relay.register("goma")
    to = envelope("marie@goma.relay.test")
    raw = email_bytes("marie@goma.relay.test")
    posts = {
        "'to' must be a list": {"email": raw, "envelope": json.dumps({"to": 5})},
        "'to' must be a list ": {"email": raw, "envelope": json.dumps({"to": [5, None]})},
        "'from' must be": {"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"], "from": {}})},
        "'envelope' field is not a JSON object": {"email": raw, "envelope": "[1, 2]"},
        "'charsets' field must map": {"headers": "Subject: x\n", "text": "x", "envelope": to,
                                     "charsets": json.dumps({"text": 5})},
        "'charsets' field is not a JSON object": {"headers": "Subject: x\n", "envelope": to, "charsets": "[]"},
        "must describe attachment1": {"headers": "Subject: x\n", "envelope": to,
                                      "attachment-info": json.dumps({"attachment1": 5})},
        "not valid UTF-8": {"email": raw, "envelope": '{"to": ["marie@goma.relay.test"], "from": "\\ud800@x"}'},
        "control characters": {"email": raw, "envelope": '{"to": ["marie@goma.relay.test\\u0000"]}'},
        "more than 1000 recipients": {"email": raw, "envelope": envelope(
            *[f"u{n}@goma.relay.test" for n in range(MAX_RECIPIENTS + 1)])},
    }
    files = {"attachment1": ("a.txt", "text/plain", b"a")}
    for reason, fields in posts.items():
        response = await relay.webhook(fields, files if "attachment-info" in fields else None)
        assert response.code == 400, (reason, response.body)
        assert reason.strip() in json.loads(response.body)["error"], (reason, response.body)
    assert stored_count(relay) == 0


@pytest.mark.gen_test(timeout=60)
async def test_line_breaks_in_attachment_names_and_ids_are_cleaned_not_500(relay, tmp_path):
    box = await relay.register("goma")
    info = {"attachment1": {"filename": "rapport\r\nBcc: all@example.org.pdf", "type": "application/pdf\r\nX: y"},
            "attachment2": {"filename": "logo.png", "type": "image/png", "content-id": "logo\r\n@x"}}
    response = await relay.webhook(
        {"headers": "Subject: names\r\nMessage-ID: <names@example.org>\r\n", "html": "<p><img src=cid:logo@x>",
         "envelope": envelope("marie@goma.relay.test"), "attachments": "2", "attachment-info": json.dumps(info)},
        files={"attachment1": ("rapport.pdf", "application/pdf", b"%PDF"),
               "attachment2": ("logo.png", "image/png", b"\x89PNG")})
    assert response.code == 200, response.body
    _, records = await box.receive(tmp_path)
    [message] = messages(records)
    assert sorted((a.name, a.type, a.cid) for a in message.attachments) == [
        ("logo.png", "image/png", "logo@x"), ("rapport Bcc: all@example.org.pdf", "application/octet-stream", None)]
    assert message.bcc == []


@pytest.mark.gen_test(timeout=60)
async def test_one_bad_post_never_fails_the_good_ones_committed_with_it(relay, tmp_path):
    box = await relay.register("goma")
    to = "marie@goma.relay.test"
    good = [inbound_parse.raw_fields(email_bytes(to, subject=f"Good {n}"), [to]) for n in range(75)]
    bad = {"email": email_bytes(to, subject="Bad"), "envelope": '{"to": ["%s"], "from": "\\udcff"}' % to}
    responses = await post_all(relay, good[:40] + [bad] + good[40:])
    codes = [response.code for response in responses]
    assert codes[40] == 400 and codes[:40] + codes[41:] == [200] * 75
    _, records = await box.receive(tmp_path)
    assert len(messages(records)) == 75


@pytest.mark.gen_test(timeout=60)
async def test_a_message_failing_inside_the_shared_transaction_fails_alone(relay, tmp_path):
    box = await relay.register("goma")
    committer = GroupCommit(relay.engine)
    to = ["marie@goma.relay.test"]
    good = [committer.store(email_bytes(to[0], subject=f"Beside {n}"), to, "sendgrid") for n in range(10)]
    broken = committer.store("text where bytes belong", to, "sendgrid")  # fails mid-transaction
    results = await asyncio.gather(*good[:5], broken, *good[5:], return_exceptions=True)
    assert isinstance(results[5], TypeError)
    assert all(routed and not isinstance(routed, Exception) for routed in results[:5] + results[6:])
    _, records = await box.receive(tmp_path)
    assert len(messages(records)) == 10


@pytest.mark.gen_test(timeout=30)
async def test_a_lone_surrogate_in_json_is_a_400_on_sync_and_register(relay):
    box = await relay.register("goma")
    body = '{"received": ["\\ud800"], "uploaded": [], "outgoing": null}'
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {box.token}"}
    sync = await relay.request("/api/v1/sync", body=body, headers=headers)
    register = await relay.request("/api/v1/register", body='{"code": "\\udfff"}',
                                   headers={"Content-Type": "application/json"})
    deep = await relay.request("/api/v1/register", body="[" * 60_000, headers={"Content-Type": "application/json"})
    assert (sync.code, register.code, deep.code) == (400, 400, 400)
    assert "not valid UTF-8" in json.loads(sync.body)["error"]
