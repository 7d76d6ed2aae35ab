"""Sending through a real SMTP peer (aiosmtpd): temporary replies retried, permanent ones reported."""

import pytest
from aiosmtpd.controller import Controller

from pouch import mime
from pouch.records import STATUS_FAILED, STATUS_SENT, StatusRecord
from tests.relay.conftest import email_bytes
from tests.support.azurite import free_port


class Peer:
    """An SMTP server that answers DATA as told (then 250) and keeps what it accepted."""

    def __init__(self):
        self.replies = []
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        if self.replies:
            return self.replies.pop(0)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 accepted"


@pytest.fixture
def smtp_peer():
    peer = Peer()
    controller = Controller(peer, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield peer, controller.port
    controller.stop()


@pytest.fixture
def relay_overrides(smtp_peer):
    return {"outbound_transport": "smtp", "outbound_smtp_host": "127.0.0.1",
            "outbound_smtp_port": smtp_peer[1], "outbound_max_attempts": 3}


def outgoing(record_id, to, subject):
    parsed = mime.parse(email_bytes(to, sender="marie@goma.relay.test", subject=subject), record_id)
    return parsed.record, parsed.blobs


@pytest.mark.gen_test(timeout=60)
async def test_smtp_peer_gets_each_message_once_despite_temporary_refusals(relay, smtp_peer, tmp_path):
    peer, _ = smtp_peer
    goma = await relay.register("goma")
    peer.replies = ["451 4.3.0 try again later"]
    name, _ = await goma.send(tmp_path, [outgoing("s-1", "friend@example.com", "Over SMTP")])
    await goma.sync(uploaded=[name])
    await relay.send_all()
    [(sender, recipients, content)] = peer.received
    assert sender == "marie@goma.relay.test" and recipients == ["friend@example.com"]
    assert b"Subject: Over SMTP" in content
    _, records = await goma.receive(tmp_path)
    assert [(r.message_id, r.state) for r in records if isinstance(r, StatusRecord)] == [("s-1", STATUS_SENT)]


@pytest.mark.gen_test(timeout=60)
async def test_permanent_smtp_refusal_is_reported_with_its_reason(relay, smtp_peer, tmp_path):
    peer, _ = smtp_peer
    goma = await relay.register("goma")
    peer.replies = ["554 5.7.1 message refused"]
    await goma.send(tmp_path, [outgoing("s-2", "friend@example.com", "Refused")])
    await relay.send_all()
    assert peer.received == []
    _, records = await goma.receive(tmp_path)
    [status] = [r for r in records if isinstance(r, StatusRecord)]
    assert status.state == STATUS_FAILED and "554" in status.reason and "refused" in status.reason


@pytest.mark.gen_test(timeout=60)
async def test_an_address_beyond_ascii_goes_out_with_smtputf8(relay, smtp_peer, tmp_path):
    peer, _ = smtp_peer
    goma = await relay.register("goma")
    await goma.send(tmp_path, [outgoing("s-3", "josé@example.com", "Bonjour")])
    await relay.send_all()
    [(_, recipients, content)] = peer.received
    assert recipients == ["josé@example.com"] and "josé@example.com".encode() in content
    _, records = await goma.receive(tmp_path)
    assert [(r.message_id, r.state) for r in records if isinstance(r, StatusRecord)] == [("s-3", STATUS_SENT)]
