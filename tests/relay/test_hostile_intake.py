"""What enters the relay from outside, sent the way a hostile or broken peer would: SendGrid's
signed webhook with headers that are not ASCII, a mail server with lines over 998 characters,
a registration code redeemed twice at once.  A clear 4xx or the mail taken, never a 500."""

import asyncio
import json
import smtplib
import time
from urllib.parse import urlsplit

import pytest

from relay.inbound import smtp
from tests.relay.conftest import email_bytes, multipart
from tests.relay.test_inbound import PUBLIC_KEY, messages, smtp_settings, stored_count
from tests.support import inbound_parse
from tests.support.azurite import free_port

TO = "marie@goma.relay.test"


@pytest.mark.parametrize("relay_overrides", [{"inbound_sendgrid_public_key": PUBLIC_KEY}])
@pytest.mark.gen_test(timeout=30)
async def test_signature_headers_that_are_not_ascii_are_a_403_with_the_reason(relay):
    await relay.register("goma")
    body, content_type = multipart(inbound_parse.raw_fields(email_bytes(TO), [TO]), {})
    now = str(int(time.time()))
    # "²" is a digit to str.isdigit() and not to int(); "é" is no base64.
    for timestamp, signature in (("\xb2", "c2ln"), (now, "\xe9\xe9"), (now + "\xb9", "c2ln")):
        response = await relay.request("/inbound/sendgrid", body=body, auth=("sendgrid", "webhook-secret"), headers={
            "Content-Type": content_type, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "X-Twilio-Email-Event-Webhook-Signature": signature})
        assert response.code == 403, (timestamp, signature, response.body)
        assert json.loads(response.body)["error"].startswith("the signature")
    assert stored_count(relay) == 0


@pytest.mark.gen_test(timeout=60)
async def test_a_registration_code_redeemed_four_times_at_once_makes_one_working_token(relay):
    for n in range(3):  # the race is lost only sometimes: a few rounds
        code = relay.add_box(f"race{n}")
        answers = await asyncio.gather(*(relay.post_json("/api/v1/register", {"code": code}) for _ in range(4)))
        assert sorted(answer.code for answer in answers) == [200, 403, 403, 403], [a.body for a in answers]
        [token] = [json.loads(answer.body)["token"] for answer in answers if answer.code == 200]
        assert (await relay.post_json("/api/v1/sync", {}, token)).code == 200
        refused = [json.loads(answer.body)["error"] for answer in answers if answer.code == 403]
        assert all("used" in reason for reason in refused)


@pytest.mark.gen_test(timeout=60)
async def test_smtp_takes_lines_over_998_characters_and_the_mail_after_them(relay, tmp_path):
    box = await relay.register("goma")
    port = free_port()
    server = await smtp.start(relay.engine, smtp_settings(relay, port, 200_000))
    line = "Mbote " * 1000  # 6,000 characters on one line, as a broken mailer writes HTML
    long_mail = (f"From: ami@example.org\r\nTo: {TO}\r\nSubject: One long line\r\n"
                 f"Message-ID: <long@example.org>\r\n\r\n{line}\r\n").encode()

    def deliver():
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ami@example.org", [TO], long_mail)
            client.sendmail("ami@example.org", [TO], email_bytes(TO, subject="Beside it"))

    try:
        await asyncio.to_thread(deliver)  # raises on any refusal
    finally:
        server.close()
    _, records = await box.receive(tmp_path)
    got = {m.subject: m.body for m in messages(records)}
    assert sorted(got) == ["Beside it", "One long line"]
    assert line.strip() in got["One long line"]


@pytest.mark.gen_test(timeout=60)
async def test_an_address_no_mailbox_can_have_never_bounces_the_mail_for_the_others(relay, tmp_path):
    box = await relay.register("goma")
    raw = email_bytes(TO, subject="Pour Marie")
    garbage = ["x" * 400 + "@goma.relay.test", "paul\u0001@goma.relay.test", "\ud800@goma.relay.test"]
    envelope = json.dumps({"to": garbage[:1] + [TO] + garbage[1:], "from": "ami@example.org"})
    response = await relay.webhook({"email": raw, "envelope": envelope})
    assert response.code == 200, response.body
    alone = await relay.webhook({"email": email_bytes(TO, subject="Nobody"), "envelope": json.dumps({"to": garbage})})
    assert alone.code == 400 and "longer than 320" in json.loads(alone.body)["error"]
    _, records = await box.receive(tmp_path)
    assert [(m.subject, m.recipients) for m in messages(records)] == [("Pour Marie", [TO])]


async def raw_request(url, head):
    """The status line and body of the answer to ``head`` (a request's bytes) sent as they are."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head)
        status = await reader.readline()
        headers = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        length = int(headers.split("content-length:")[1].split()[0]) if "content-length:" in headers else 0
        return status.decode().strip(), await reader.readexactly(length)
    finally:
        writer.close()


@pytest.mark.gen_test(timeout=30)
async def test_a_content_length_that_is_not_a_number_is_a_400_with_the_reason(relay):
    box = await relay.register("goma")
    for length in ("\xb2", "12abc"):  # "²" passes str.isdigit(), and int() refuses it
        head = (f"POST /api/v1/sync HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {box.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{}}").encode("latin-1")
        status, body = await raw_request(relay.url, head)
        assert status.startswith("HTTP/1.1 400"), (length, status, body)
        assert "Content-Length" in json.loads(body)["error"]
    assert (await box.sync())["downloads"] == []  # the relay goes on


@pytest.mark.gen_test(timeout=60)
async def test_parsed_mode_fields_in_a_charset_python_cannot_replace_in_still_arrive(relay, tmp_path):
    box = await relay.register("goma")
    # SendGrid's 'charsets' repeats what the sender's Content-Type said: anything Python names.
    for charset in ("idna", "punycode"):
        response = await relay.webhook({
            "headers": f"Subject: Caf\xe9 {charset}\r\nMessage-ID: <{charset}@example.org>\r\n".encode("latin-1"),
            "text": "Caf\xe9 au lait".encode("latin-1"), "envelope": inbound_parse.envelope([TO]),
            "charsets": json.dumps({"headers": charset, "text": charset})})
        assert response.code == 200, (charset, response.body)
    _, records = await box.receive(tmp_path)
    assert sorted((m.subject, m.body) for m in messages(records)) == [
        ("Café idna", "Café au lait"), ("Café punycode", "Café au lait")]


@pytest.mark.gen_test(timeout=90)
async def test_a_post_of_long_file_names_is_taken_without_holding_the_relay(relay, tmp_path):
    box = await relay.register("goma")
    # 18 MB of names: each took the email package 3.5 s to encode, the whole post minutes.
    names = {f"attachment{n}": f"{n:04} " + "é" * 150_000 + ".txt" for n in range(1, 61)}
    files = {key: ("a.txt", "text/plain", b"a") for key in names}
    info = {key: {"filename": name, "type": "text/plain"} for key, name in names.items()}
    posted = asyncio.ensure_future(relay.webhook(
        {"headers": "Subject: Long names\r\n", "text": "see attached", "envelope": inbound_parse.envelope([TO]),
         "attachments": str(len(files)), "attachment-info": json.dumps(info, ensure_ascii=False)}, files))
    await asyncio.sleep(0.5)
    assert (await box.sync())["downloads"] == []  # a box's sync is answered meanwhile
    response = await posted
    assert response.code == 200, response.body
    _, records = await box.receive(tmp_path)
    [message] = messages(records)
    assert len(message.attachments) == 60
    assert sorted(a.name for a in message.attachments)[0] == ("0001 " + "é" * 150_000)[:200]


@pytest.mark.gen_test(timeout=30)
async def test_webhook_credentials_missing_or_wrong_are_a_401_that_says_which(relay):
    await relay.register("goma")
    fields = inbound_parse.raw_fields(email_bytes(TO), [TO])
    reasons = {}
    for label, auth in (("none", None), ("wrong", ("sendgrid", "guess")), ("user only", ("sendgrid", ""))):
        response = await relay.webhook(fields, auth=auth)
        assert response.code == 401 and response.headers["WWW-Authenticate"] == 'Basic realm="sendgrid"'
        reasons[label] = json.loads(response.body)["error"]
    assert reasons == {"none": "credentials required", "wrong": "wrong user or password",
                       "user only": "wrong user or password"}
    assert stored_count(relay) == 0


@pytest.mark.gen_test(timeout=60)
async def test_smtp_a_client_cut_mid_data_stores_nothing_and_nul_bytes_are_kept(relay, tmp_path):
    box = await relay.register("goma")
    port = free_port()
    server = await smtp.start(relay.engine, smtp_settings(relay, port))

    async def cut_mid_data():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.readline()
        for command in (b"EHLO sender.example", b"MAIL FROM:<ami@example.org>", f"RCPT TO:<{TO}>".encode(), b"DATA"):
            writer.write(command + b"\r\n")
            while (await reader.readline())[3:4] == b"-":  # multi-line EHLO answer
                pass
        writer.write(b"Subject: Half\r\nMessage-ID: <half@example.org>\r\n\r\nhalf a mess")
        await writer.drain()
        writer.close()

    def deliver():
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ami@example.org", [TO], b"Subject: With\x00NUL\r\n\r\nA\x00B\r\n")

    try:
        await cut_mid_data()
        await asyncio.to_thread(deliver)
    finally:
        server.close()
    assert stored_count(relay) == 1
    _, records = await box.receive(tmp_path)
    [message] = messages(records)
    assert "Half" not in message.subject and "A" in message.body


@pytest.mark.gen_test(timeout=30)
async def test_a_content_type_in_capitals_is_read_and_one_without_boundary_says_so(relay, tmp_path):
    box = await relay.register("goma")
    body, _ = multipart(inbound_parse.raw_fields(email_bytes(TO, subject="En capitales"), [TO]), {})
    auth = ("sendgrid", "webhook-secret")
    shouted = await relay.request("/inbound/sendgrid", body=body, auth=auth,
                                  headers={"Content-Type": "Multipart/Form-Data; BOUNDARY=xYzZY"})
    assert shouted.code == 200, shouted.body
    bare = await relay.request("/inbound/sendgrid", body=body, auth=auth, headers={"Content-Type": "multipart/form-data"})
    assert bare.code == 400 and "boundary" in json.loads(bare.body)["error"]
    _, records = await box.receive(tmp_path)
    assert [m.subject for m in messages(records)] == ["En capitales"]
