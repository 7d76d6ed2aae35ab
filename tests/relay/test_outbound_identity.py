"""Every transport gives a message the same identity (Date, Message-ID, In-Reply-To,
References), the box's own, so that replies thread; and every transport the settings accept
exists."""

import email
from email.utils import parsedate_to_datetime

import pytest

from pouch import mime
from relay.outbound.transports import TRANSPORTS, Transport, mail_send_body, make_transport
from relay.settings import Outbound, RelaySettings
from tests.relay.conftest import email_bytes
from tests.relay.test_outbound_smtp import smtp_peer  # noqa: F401 (fixture)

THREAD = ["root@example.com", *(f"step-{n}@example.net" for n in range(1, 6)), "parent@example.com"]


@pytest.fixture(params=sorted(TRANSPORTS))
def kind(request):
    return request.param


@pytest.fixture
def relay_overrides(kind, request):
    if kind == "sendgrid":
        standin = request.getfixturevalue("sendgrid_standin")
        return {"outbound_transport": "sendgrid", "outbound_sendgrid_api_key": standin.api_key,
                "outbound_sendgrid_host": standin.url}
    if kind == "smtp":
        return {"outbound_transport": "smtp", "outbound_smtp_host": "127.0.0.1",
                "outbound_smtp_port": request.getfixturevalue("smtp_peer")[1]}
    return {"outbound_transport": kind}


def written_reply(date):
    """A reply as a box writes it: its own Message-ID and Date, the thread it answers."""
    parsed = mime.parse(email_bytes("friend@example.com", sender="marie@goma.relay.test", subject="Re: Plans"),
                        "r-1")
    record = parsed.record
    record.message_id, record.date = "box-1.2.3@goma.relay.test", date
    record.in_reply_to, record.references = THREAD[-1], THREAD
    return record, parsed.blobs


def identity_as_sent(kind, relay, request):
    """The identity headers of the one message that left, as its transport handed it over."""
    if kind == "sendgrid":
        [body] = request.getfixturevalue("sendgrid_standin").accepted
        return body["headers"]
    if kind == "smtp":
        [(_, _, raw)] = request.getfixturevalue("smtp_peer")[0].received
    else:
        [path] = relay.settings.sent_folder.glob("*.eml")
        raw = path.read_bytes()
    message = email.message_from_bytes(raw)
    return {name: " ".join(message[name].split()) for name in ("Date", "Message-ID", "In-Reply-To", "References")}


@pytest.mark.parametrize("date", [1_700_000_000, -86_400 * 365])  # 2023, and a clock set before 1970
@pytest.mark.gen_test(timeout=60)
async def test_each_transport_sends_the_boxs_identity(relay, kind, date, request, tmp_path):
    goma = await relay.register("goma")
    await goma.send(tmp_path, [written_reply(date)])
    await relay.send_all()
    identity = identity_as_sent(kind, relay, request)
    assert identity["Message-ID"] == "<box-1.2.3@goma.relay.test>"
    assert parsedate_to_datetime(identity["Date"]).timestamp() == date
    assert identity["In-Reply-To"] == "<parent@example.com>"
    # The thread's start and the nearest ancestors, as RFC 5537 trims them: enough to thread.
    assert identity["References"] == "<root@example.com> <step-4@example.net> <step-5@example.net> " \
                                     "<parent@example.com>"


def test_every_transport_kind_has_its_class():
    for kind, transport in TRANSPORTS.items():
        assert issubclass(transport, Transport), kind
        assert transport.send is not Transport.send and transport.from_settings is not Transport.from_settings


def test_an_unknown_transport_is_refused_by_name():
    settings = RelaySettings(outbound=Outbound(transport="carrier-pigeon"))
    with pytest.raises(ValueError, match="'carrier-pigeon' is not one of folder, sendgrid, smtp"):
        make_transport(settings)


def test_a_record_without_message_id_gets_one_id_whatever_the_attempt_or_transport():
    record, blobs = written_reply(1_700_000_000)
    record.message_id = ""
    ids = {email.message_from_bytes(mime.build(record, blobs))["Message-ID"] for _ in range(2)}
    ids.add(mail_send_body(record, blobs, {"friend@example.com"})["headers"]["Message-ID"])
    [only] = ids
    assert only.endswith("@goma.relay.test>")
