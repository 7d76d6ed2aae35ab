"""A stand-in for SendGrid's v3 Mail Send API: a real HTTP server on a free port.

It checks every request against the documented shape of POST /v3/mail/send
(Bearer key, personalizations, from, subject, content, attachments, headers,
the 30 MB limit) and answers 400 with SendGrid's error document when a request
breaks a rule, else what the test asked for (``answer_next(429, 500, ...)``),
else 202, after ``delay_s``.  Fixture `sendgrid_standin`; point the sendgrid library's host at
its ``url``.
"""

import asyncio
import base64
import binascii
import json
import re
import threading
import uuid

import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web

MAX_BYTES = 30 * 1024 * 1024  # "the total size of your email ... must not exceed 30MB"
MAX_RECIPIENTS = 1000
DISPOSITIONS = ("inline", "attachment")
FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 2.2: printable US-ASCII but the colon
FIELD_VALUE = re.compile(r"[ -~\t]*")  # 7-bit, no line break: it stays one header
RESERVED_HEADERS = {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
                    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}


def _address_errors(value, field):
    if not isinstance(value, dict) or not isinstance(value.get("email"), str) or "@" not in value["email"]:
        return [(f"{field}.email", "Does not contain a valid address.")]
    if "name" in value and not isinstance(value["name"], str):
        return [(f"{field}.name", "The name must be a string.")]
    return []


def _personalization_errors(index, item, has_subject):
    field = f"personalizations.{index}"
    if not isinstance(item, dict):
        return [(field, "Each personalization must be an object.")]
    if not isinstance(item.get("to"), list) or not item["to"]:
        return [(f"{field}.to", "The to array is required for all personalization objects, "
                                "and must have at least one email object with a valid email address.")]
    errors, seen = [], set()
    for kind in ("to", "cc", "bcc"):
        for position, address in enumerate(item.get(kind, [])):
            errors += _address_errors(address, f"{field}.{kind}.{position}")
            email = str(address.get("email", "")).lower() if isinstance(address, dict) else ""
            if email in seen:
                errors.append((field, "Each email address in the personalization block should be unique "
                                      "between to, cc, and bcc."))
            seen.add(email)
    if len(seen) > MAX_RECIPIENTS:
        errors.append((field, "The total number of recipients must be no more than 1000."))
    if not has_subject and not (isinstance(item.get("subject"), str) and item["subject"]):
        errors.append(("subject", "The subject is required. You can get around this requirement if you use "
                                  "a template with a subject defined or if every personalization has a subject "
                                  "defined."))
    return errors


def _content_errors(content):
    if not isinstance(content, list) or not content:
        return [("content", "Unless a valid template_id is provided, the content parameter is required.")]
    errors = []
    for index, item in enumerate(content):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) \
                or not isinstance(item.get("value"), str) or not item["value"]:
            errors.append((f"content.{index}", "The content value must be a string at least one character "
                                               "in length, with a type."))
    types = [item.get("type") for item in content if isinstance(item, dict)]
    if "text/plain" in types and "text/html" in types and types.index("text/plain") > types.index("text/html"):
        errors.append(("content", "If present, text/plain must be first, followed by text/html."))
    return errors


def _attachment_errors(attachments):
    if not isinstance(attachments, list):
        return [("attachments", "Attachments must be an array.")]
    errors = []
    for index, item in enumerate(attachments):
        field = f"attachments.{index}"
        try:
            base64.b64decode(item.get("content", ""), validate=True)
            valid_content = bool(item.get("content"))
        except (binascii.Error, ValueError, AttributeError):
            valid_content = False
        if not valid_content:
            errors.append((f"{field}.content", "The attachment content must be base64 encoded."))
            continue
        if not isinstance(item.get("filename"), str) or not item["filename"]:
            errors.append((f"{field}.filename", "The attachment filename parameter is required."))
        disposition = item.get("disposition", "attachment")
        if disposition not in DISPOSITIONS:
            errors.append((f"{field}.disposition", "Disposition must be inline or attachment."))
        if disposition == "inline" and not item.get("content_id"):
            errors.append((f"{field}.content_id", "The content_id parameter is required for inline attachments."))
        if "type" in item and (not isinstance(item["type"], str) or "/" not in item["type"]):
            errors.append((f"{field}.type", "The attachment type must be a MIME type."))
    return errors


def mail_send_errors(body):
    """SendGrid's (field, message) complaints about one Mail Send body; [] when valid."""
    if not isinstance(body, dict):
        return [(None, "Bad Request")]
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not 1 <= len(personalizations) <= MAX_RECIPIENTS:
        return [("personalizations", "The personalizations field is required and must have at least one "
                                     "personalization.")]
    has_subject = isinstance(body.get("subject"), str) and bool(body["subject"])
    errors = []
    for index, item in enumerate(personalizations):
        errors += _personalization_errors(index, item, has_subject)
    errors += _address_errors(body.get("from"), "from")
    if "reply_to" in body:
        errors += _address_errors(body["reply_to"], "reply_to")
    errors += _content_errors(body.get("content"))
    if "attachments" in body:
        errors += _attachment_errors(body["attachments"])
    if "headers" in body:
        errors += _header_errors(body["headers"])
    return errors


def _header_errors(headers):
    """Mail Send's reference: "key/value pairs must be strings", "properly encoded if they contain
    unicode characters", "cannot be one of the reserved headers"; names as RFC 5322 has them."""
    if not isinstance(headers, dict):
        return [("headers", "Invalid type. Expected: object, given: " + type(headers).__name__ + ".")]
    errors = []
    for name, value in headers.items():
        if not isinstance(value, str):
            errors.append((f"headers.{name}", "The headers key/value pairs must be strings."))
        elif name.lower() in RESERVED_HEADERS:
            errors.append(("headers", f"The header {name} is reserved and cannot be set."))
        elif not FIELD_NAME.fullmatch(name):
            errors.append(("headers", f"{name!r} is not a header name."))
        elif not FIELD_VALUE.fullmatch(value):
            errors.append((f"headers.{name}", "Header values must be encoded if they contain unicode "
                                              "characters, and be one line."))
    return errors


class MailSendHandler(tornado.web.RequestHandler):
    def initialize(self, standin):
        self.standin = standin

    async def post(self):
        standin = self.standin
        await asyncio.sleep(standin.delay_s)
        if self.request.headers.get("Authorization") != f"Bearer {standin.api_key}":
            return self.answer(401, [(None, "The provided authorization grant is invalid, expired, or revoked")])
        if len(self.request.body) > MAX_BYTES:
            return self.answer(413, [(None, "The JSON payload you have included in your request is too large.")])
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            return self.answer(415, [(None, "Content-Type should be application/json.")])
        try:
            body = json.loads(self.request.body)
        except ValueError:
            return self.answer(400, [(None, "Bad Request")])
        errors = mail_send_errors(body)
        if errors:
            standin.invalid.append((body, errors))
            return self.answer(400, errors)
        status = standin.next_answer()
        if status != 202:
            return self.answer(status, [(None, f"answer {status} asked for by the test")])
        standin.accepted.append(body)
        self.set_status(202)
        self.set_header("X-Message-Id", uuid.uuid4().hex)

    def answer(self, status, errors):
        self.set_status(status)
        self.finish({"errors": [{"message": m, "field": f, "help": None} for f, m in errors]})


class SendGridStandIn:
    """The server, in a thread of its own so blocking clients and other processes can reach it."""

    def __init__(self, api_key="SG.test-key"):
        self.api_key = api_key
        self.accepted = []  # bodies answered 202
        self.invalid = []  # (body, errors) answered 400
        self.delay_s = 0.0  # how long each answer takes, like a real API
        self._answers = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def answer_next(self, *statuses):
        with self._lock:
            self._answers.extend(statuses)

    def next_answer(self):
        with self._lock:
            return self._answers.pop(0) if self._answers else 202

    def start(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the SendGrid stand-in did not start")
        return self

    def stop(self):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _serve(self):
        asyncio.run(self._main())

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = tornado.web.Application([(r"/v3/mail/send", MailSendHandler, {"standin": self})])
        server = tornado.httpserver.HTTPServer(app, max_body_size=2 * MAX_BYTES)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server.add_sockets(sockets)
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        self._ready.set()
        await self._stop.wait()
        server.stop()


@pytest.fixture
def sendgrid_standin():
    standin = SendGridStandIn().start()
    yield standin
    standin.stop()
