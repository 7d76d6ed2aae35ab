"""The SendGrid stand-in is only worth its checks: it accepts what SendGrid's own
library builds and refuses what SendGrid documents as errors."""

import base64
import json
import urllib.error
import urllib.request

import pytest
from sendgrid.helpers.mail import (Attachment, Bcc, Cc, ContentId, Disposition, FileContent, FileName,
                                   FileType, Mail)

from tests.support.sendgrid import mail_send_errors


def library_mail():
    mail = Mail(from_email="marie@goma.example", to_emails="friend@example.com", subject="Hi",
                plain_text_content="Hello", html_content="<p>Hello</p>")
    mail.add_cc(Cc("boss@example.net"))
    mail.add_bcc(Bcc("archive@example.org"))
    mail.add_attachment(Attachment(FileContent(base64.b64encode(b"%PDF").decode()), FileName("r.pdf"),
                                   FileType("application/pdf"), Disposition("inline"), ContentId("r1")))
    return mail.get()


def test_what_the_sendgrid_library_builds_is_accepted():
    assert mail_send_errors(library_mail()) == []


def test_identity_headers_are_the_senders_to_set():
    body = library_mail()
    body["headers"] = {"Message-ID": "<1.2@goma.example>", "Date": "Sun, 06 Dec 2026 21:00:00 +0000",
                       "In-Reply-To": "<0.1@example.com>", "References": "<0.0@example.com> <0.1@example.com>"}
    assert mail_send_errors(body) == []


@pytest.mark.parametrize("break_it, field", [
    (lambda b: b.pop("personalizations"), "personalizations"),
    (lambda b: b["personalizations"][0].pop("to"), "personalizations.0.to"),
    (lambda b: b["personalizations"][0]["cc"].append({"email": "friend@example.com"}), "personalizations.0"),
    (lambda b: b.update({"from": {"email": "nobody"}}), "from.email"),
    (lambda b: b.pop("subject"), "subject"),
    (lambda b: b.update({"content": [{"type": "text/plain", "value": ""}]}), "content.0"),
    (lambda b: b["content"].reverse(), "content"),
    (lambda b: b["attachments"][0].update({"content": "not base64!"}), "attachments.0.content"),
    (lambda b: b["attachments"][0].pop("content_id"), "attachments.0.content_id"),
    (lambda b: b["attachments"][0].pop("filename"), "attachments.0.filename"),
    (lambda b: b.update({"headers": {"To": "x@example.com"}}), "headers"),
    (lambda b: b.update({"headers": {"reply-to": "x@example.com"}}), "headers"),  # names are case-blind
    (lambda b: b.update({"headers": {"X-SG-EID": "forged"}}), "headers"),
    (lambda b: b.update({"headers": ["Message-ID", "<a@b>"]}), "headers"),
    (lambda b: b.update({"headers": {"X-Count": 3}}), "headers.X-Count"),
    (lambda b: b.update({"headers": {"X-Note": "café"}}), "headers.X-Note"),  # unicode must come encoded
    (lambda b: b.update({"headers": {"X-Note": "one\r\nBcc: all@example.com"}}), "headers.X-Note"),
    (lambda b: b.update({"headers": {"Message ID": "<a@b>"}}), "headers"),
])
def test_documented_mistakes_are_refused(break_it, field):
    body = library_mail()
    break_it(body)
    assert field in [f for f, _ in mail_send_errors(body)]


def post(standin, body, key):
    request = urllib.request.Request(f"{standin.url}/v3/mail/send", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_key_size_and_configured_answers(sendgrid_standin):
    body = json.dumps(library_mail()).encode()
    assert post(sendgrid_standin, body, "wrong-key") == 401
    sendgrid_standin.answer_next(429, 500)
    assert [post(sendgrid_standin, body, sendgrid_standin.api_key) for _ in range(3)] == [429, 500, 202]
    assert post(sendgrid_standin, b" " * (30 * 1024 * 1024 + 1), sendgrid_standin.api_key) == 413
    reserved = json.dumps(dict(library_mail(), headers={"Subject": "Another"})).encode()
    assert post(sendgrid_standin, reserved, sendgrid_standin.api_key) == 400
    assert len(sendgrid_standin.accepted) == 1
