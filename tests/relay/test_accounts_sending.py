"""Mail a box user sends from an external address: out through that account's own SMTP
server (a real aiosmtpd with AUTH), a copy in its Sent folder on a real Dovecot."""

import asyncio
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import imapclient
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pouch.records import STATUS_FAILED, STATUS_SENT, MessageRecord, StatusRecord
from relay.outbound.accounts import AccountSender
from relay.outbound.transports import make_transport
from relay.outbound.worker import Worker
from relay.schema import outbound, sent_copies
from tests.relay.accounts_support import (ACCOUNT_ID, ADDRESS, FAST, PASSWORD, account_record,
                                          accounts_running, database_url, message, queued_subjects,
                                          relay_overrides, settings_for, until, upload)
from tests.support.azurite import free_port

__all__ = ["database_url", "relay_overrides"]  # fixtures, imported by name

ACCESS_TOKEN = "ya29.test-access-token"


class Peer:
    """An SMTP server that wants AUTH (PLAIN/LOGIN, or XOAUTH2 with the one access token)."""

    def __init__(self):
        self.received = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.auth_data))
        return "250 2.0.0 accepted"

    async def auth_XOAUTH2(self, server, args):
        answer = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(part.split("=", 1) for part in answer.split("\1") if "=" in part)
        self.logins.append(("XOAUTH2", fields.get("user")))
        ok = fields.get("auth") == f"Bearer {ACCESS_TOKEN}"
        return AuthResult(success=ok, handled=False, auth_data=fields.get("user"))

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        self.logins.append((mechanism, login))
        ok = (login, auth_data.password.decode()) == (ADDRESS, PASSWORD)
        return AuthResult(success=ok, handled=False, auth_data=login)


@pytest.fixture
def smtp_factory():
    controllers = []

    def start(port=None):
        peer = Peer()
        controller = Controller(peer, hostname="127.0.0.1", port=port or free_port(), authenticator=peer.authenticate,
                                auth_require_tls=False)
        controller.start()
        controllers.append(controller)
        return peer, controller.port

    yield start
    for controller in controllers:
        controller.stop()


def use_account_sender(relay, monkeypatch):
    """The relay's sender, with the account sender `serve` gives it."""
    monkeypatch.setattr(relay, "worker", lambda: Worker(
        relay.engine, make_transport(relay.settings), relay.settings.outbound,
        accounts=AccountSender(relay.engine, relay.settings)))


def from_account(record_id, subject, to="friend@example.com"):
    return MessageRecord(id=record_id, from_=[("Amani", ADDRESS)], to=[("Friend", to)], subject=subject,
                         date=1_700_000_000, message_id=f"{record_id}@goma.relay.test", body="Sent from the box.",
                         extra={"account": ACCOUNT_ID})


async def statuses_of(box, tmp_path):
    _, records = await box.receive(tmp_path)
    return {r.message_id: r for r in records if isinstance(r, StatusRecord)}


@pytest.mark.gen_test(timeout=60)
async def test_mail_from_an_external_address_leaves_through_its_smtp_with_a_copy_in_sent(
        relay, dovecot, smtp_factory, tmp_path, monkeypatch):
    peer, port = smtp_factory()
    dovecot.add_user(ADDRESS, PASSWORD)
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot, smtp_port=port)),
                 from_account("out-1", "From my other address"))
    use_account_sender(relay, monkeypatch)
    await relay.send_all()

    [(sender, recipients, content, login)] = peer.received
    assert sender == ADDRESS and recipients == ["friend@example.com"] and login == ADDRESS
    assert b"Subject: From my other address" in content
    assert dovecot.seen_subjects(ADDRESS, "Sent") == {"From my other address": True}
    assert dovecot.seen_subjects(ADDRESS) == {}  # nothing in the inbox
    status = (await statuses_of(box, tmp_path))["out-1"]
    assert status.state == STATUS_SENT and status.reason == ""


@pytest.mark.gen_test(timeout=60)
async def test_a_refused_smtp_password_fails_clearly_and_an_unreachable_server_is_retried(
        relay, dovecot, smtp_factory, tmp_path, monkeypatch):
    dovecot.add_user(ADDRESS, PASSWORD)
    peer, port = smtp_factory()
    box = await relay.register("goma")
    use_account_sender(relay, monkeypatch)

    await upload(box, tmp_path, account_record(relay, settings_for(dovecot, smtp_port=port, password="wrong")),
                 from_account("out-1", "Refused"))
    await relay.send_all()
    status = (await statuses_of(box, tmp_path))["out-1"]
    assert status.state == STATUS_FAILED and "refused the user name or password" in status.reason
    assert peer.received == []

    down = free_port()  # nothing listens there yet
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot, smtp_port=down)),
                 from_account("out-2", "Retried"))
    await asyncio.to_thread(relay.worker().run_once)
    with relay.engine.connect() as db:
        row = db.execute(sa.select(outbound).where(outbound.c.record_id == "out-2")).mappings().one()
    assert row["state"] == "queued" and "127.0.0.1" in row["last_error"]  # temporary: retried later
    late_peer, _ = smtp_factory(port=down)  # the server comes back
    await relay.send_all()
    assert [subject_line(content) for _, _, content, _ in late_peer.received] == [b"Subject: Retried"]
    assert (await statuses_of(box, tmp_path))["out-2"].state == STATUS_SENT


# The copy is due a second after the send: later than the session's first round, so that it is
# the supervisor that wakes the idling session for it.
@pytest.mark.parametrize("relay_overrides", [dict(FAST, accounts_backoff_s=1.0)])
@pytest.mark.gen_test(timeout=60)
async def test_a_sent_copy_the_imap_server_could_not_take_goes_in_sent_once_it_answers(
        relay, dovecot, smtp_factory, flaky_proxy, tmp_path, monkeypatch):
    peer, port = smtp_factory()
    dovecot.add_user(ADDRESS, PASSWORD)
    imap = flaky_proxy(dovecot.host, dovecot.port)
    imap.go_down()  # the IMAP server cannot be reached when the mail leaves; SMTP can
    settings = dict(settings_for(dovecot, smtp_port=port), imap_host=imap.host, imap_port=imap.port)
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings), from_account("out-1", "Filed later"))
    use_account_sender(relay, monkeypatch)
    await relay.send_all()
    assert [subject_line(content) for _, _, content, _ in peer.received] == [b"Subject: Filed later"]
    status = (await statuses_of(box, tmp_path))["out-1"]
    assert status.state == STATUS_SENT and status.reason == ""
    assert copies_waiting(relay) == 1

    imap.come_up()
    async with accounts_running(relay):
        await until(lambda: sent_subjects(dovecot) == {"Filed later": True}, "the copy in Sent")
    assert copies_waiting(relay) == 0
    assert len(peer.received) == 1  # the mail itself left once


def copies_waiting(relay):
    with relay.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(sent_copies)).scalar()


def sent_subjects(dovecot):
    try:
        return dovecot.seen_subjects(ADDRESS, "Sent")
    except imapclient.exceptions.IMAPClientError:  # no Sent folder yet
        return {}


def subject_line(content):
    return next(line for line in content.splitlines() if line.startswith(b"Subject:"))


class OAuthProvider(BaseHTTPRequestHandler):
    """An OAuth2 provider: /token trades the one refresh token for ACCESS_TOKEN, /tokeninfo tells
    Dovecot whose that token is."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = dict(part.split("=", 1) for part in body.split("&"))
        ok = form.get("grant_type") == "refresh_token" and form.get("refresh_token") == "refresh-1"
        self._answer(ok, {"access_token": ACCESS_TOKEN, "expires_in": 3600} if ok else {"error": "invalid_grant"})

    def do_GET(self):
        ok = self.path.endswith(f"access_token={ACCESS_TOKEN}")
        self._answer(ok, {"username": ADDRESS, "active": True} if ok else {"error": "invalid_token"})

    def _answer(self, ok, answer):
        data = json.dumps(answer).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def oauth_provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), OAuthProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.gen_test(timeout=60)
async def test_xoauth2_syncs_and_sends_with_an_access_token_traded_for_the_refresh_token(
        relay, dovecot_factory, smtp_factory, oauth_provider, tmp_path, monkeypatch):
    dovecot = dovecot_factory(tokeninfo_url=f"{oauth_provider}/tokeninfo")
    dovecot.add_user(ADDRESS, "not-used-with-oauth2")
    dovecot.seed(ADDRESS, [message("over XOAUTH2")])
    peer, port = smtp_factory()
    box = await relay.register("goma")
    oauth = {"token_url": f"{oauth_provider}/token", "client_id": "mailpouch", "client_secret": "s",
             "refresh_token": "refresh-1"}
    settings = dict(settings_for(dovecot, smtp_port=port), auth="xoauth2", password="", oauth=oauth)
    await upload(box, tmp_path, account_record(relay, settings), from_account("out-1", "With a token"))
    async with accounts_running(relay):
        await until(lambda: queued_subjects(relay) == ["over XOAUTH2"], "the mail, over XOAUTH2")
    use_account_sender(relay, monkeypatch)
    await relay.send_all()
    assert peer.logins == [("XOAUTH2", ADDRESS)] and len(peer.received) == 1
    assert dovecot.seen_subjects(ADDRESS, "Sent") == {"With a token": True}
    assert (await statuses_of(box, tmp_path))["out-1"].state == STATUS_SENT

    revoked = dict(settings, oauth=dict(oauth, refresh_token="revoked"))
    await upload(box, tmp_path, account_record(relay, revoked), from_account("out-2", "Revoked"))
    await relay.send_all()
    status = (await statuses_of(box, tmp_path))["out-2"]
    assert status.state == STATUS_FAILED and "refused the account's OAuth2 refresh token" in status.reason
