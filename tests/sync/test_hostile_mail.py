"""Mail as broken senders write it, through SendGrid's webhook, the relay and a sync to the box's
pages: an attachment whose type is no type (a NUL in it, bytes no charset reads), a sender's
name with an encoded word that names no charset, a forwarded mail holding a multipart that names
no boundary over 8-bit text.  Before, the relay set each aside when it packed it (the box never
saw them); now they arrive beside the good one and read as RFC 2045 says."""

import dataclasses
import json
import logging

import pytest

from appliance.server import make_app
from appliance.settings import Web
from appliance.store.messages import INBOX
from pouch.runtime.database import create_engine
from tests.appliance.conftest import BoxClient
from tests.relay.conftest import email_bytes

TO = "marie@goma.relay.test"
BROKEN = (b"From: =?*0*=utf-8''%00%ff?b?QQ==?= <ami@example.org>\r\nTo: " + TO.encode() + b"\r\n"
          b"Subject: The menu\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <menu@example.org>\r\n"
          b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
          b"--BB\r\nContent-Type: text/plain\r\n\r\nThe menu is attached.\r\n"
          b"--BB\r\nContent-Type: image/pn\x00g; name=\"menu.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          b"aGVsbG8=\r\n"
          b"--BB\r\nContent-Type: \xff\xfe/\xe9t\r\nContent-Disposition: attachment; filename=prices.bin\r\n\r\n"
          b"12 francs\r\n--BB--\r\n")
FORWARDED = (b"From: ami@example.org\r\nTo: " + TO.encode() + b"\r\nSubject: Forwarded\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
             b"--BB\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@example.org\r\n"
             b"Content-Type: multipart/mixed; boundary=CC\r\n\r\n--CC\r\n"
             b"Content-Type: multipart/related; charset=gb2312\r\n\r\n\xc4\xe3\xba\xc3\r\n--CC--\r\n--BB--\r\n")


@pytest.mark.gen_test(timeout=90)
async def test_a_mail_whose_types_are_no_types_reaches_the_box_page_beside_the_good_one(
        relay, make_box, box_server, caplog):
    caplog.set_level(logging.WARNING)
    goma = await make_box("goma")
    marie = goma.user("marie")
    for raw in (BROKEN, FORWARDED, email_bytes(TO, subject="Good one", sender="ami@example.org")):
        answer = await relay.webhook({"email": raw, "envelope": json.dumps({"to": [TO]})})
        assert answer.code == 200, answer.body
    synced = await goma.sync()
    assert synced.ok and synced.messages_down == 3, synced.error
    assert not [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    rows = {row["subject"]: row for row in goma.folder(marie, INBOX)}
    assert set(rows) == {"The menu", "Forwarded", "Good one"}

    settings = dataclasses.replace(goma.settings, web=Web(cookie_secret="test-secret-" + "x" * 32))
    engine = create_engine(settings.box.database)
    try:
        with box_server.serving(make_app(settings, engine)) as url:
            page = BoxClient(url)
            page.sign_in("marie", domain="goma.relay.test")
            thread = page.get(f"/thread/{rows['The menu']['thread_id']}")
            assert thread.status_code == 200 and "The menu is attached." in thread.text
            assert "menu.png" in thread.text and "prices.bin" in thread.text
            links = sorted(set(part.split('"')[0] for part in thread.text.split('href="/attachment/')[1:]))
            files = [page.get(f"/attachment/{link}") for link in links]
            assert sorted(f.content for f in files) == [b"12 francs", b"hello"]
    finally:
        engine.dispose()

