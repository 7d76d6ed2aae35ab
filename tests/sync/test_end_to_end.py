"""A relay and two boxes in one run, blob storage on Azurite: mail to the
internet, between boxes and from the internet lands where it belongs, once."""

import json
import os

import pytest

from appliance.store import sync_usage
from appliance.store.messages import INBOX, SENT, UPLOADED
from tests.relay.conftest import email_bytes


def subjects(rows):
    return sorted(row["subject"] for row in rows)


@pytest.mark.parametrize("direct_urls", ["no", "yes"])
@pytest.mark.gen_test(timeout=90)
async def test_mail_reaches_the_internet_the_other_box_and_comes_in(relay, make_box, sendgrid_standin):
    goma, bukavu = await make_box("goma"), await make_box("bukavu")
    marie, jean = goma.user("marie"), bukavu.user("jean")
    photo = os.urandom(20_000)  # does not compress: its bytes show in the figures
    sent_id = goma.send(marie, ["friend@example.com", "jean@bukavu.relay.test"], "Photos from Goma",
                        files=[("photo.jpg", "image/jpeg", photo)])
    raw = email_bytes("marie@goma.relay.test", subject="From the internet", sender="ami@example.org")
    answer = await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
    assert answer.code == 200

    first = await goma.sync()
    assert first.ok and (first.messages_up, first.messages_down) == (1, 1), first.error
    assert goma.message(sent_id)["state"] == UPLOADED
    assert subjects(goma.folder(marie, INBOX)) == ["From the internet"]

    await relay.send_all()
    assert len(sendgrid_standin.accepted) == 1
    personalizations = sendgrid_standin.accepted[0]["personalizations"]
    assert [to["email"] for p in personalizations for to in p["to"]] == ["friend@example.com"]

    other = await bukavu.sync()
    assert other.ok and other.messages_down == 1, other.error
    [arrived] = bukavu.folder(jean, INBOX)
    assert arrived["subject"] == "Photos from Goma"

    # The fate of Marie's message comes back at goma's next sync.
    again = await goma.sync()
    assert again.ok and again.messages_up == 0, again.error
    sent = goma.message(sent_id)
    assert sent["state"] == SENT and first.started_at <= sent["uploaded_at"] <= sent["state_at"]
    assert subjects(goma.folder(marie, INBOX)) == ["From the internet"]  # not imported twice
    with goma.store.read() as conn:
        history = sync_usage.history(conn)
    assert [run["ok"] for run in history] == [True, True]
    [upload] = [run for run in history if run["messages_up"]]
    assert upload["messages_up"] == 1 and upload["wire_bytes_up"] > upload["bytes_up"] > len(photo)


@pytest.mark.gen_test(timeout=60)
async def test_blobs_come_through_the_relays_own_host_unless_direct_urls(relay, make_box, azurite):
    goma = await make_box("goma")
    goma.send(goma.user("marie"), ["friend@example.com"], "Hello")
    seen = []
    http_fetch = goma.http.fetch

    async def fetch(request, **options):
        seen.append(request.url)
        return await http_fetch(request, **options)

    goma.http.fetch = fetch
    assert (await goma.sync()).ok
    assert seen and all(url.startswith(relay.url + "/") for url in seen), seen
    assert not any(str(azurite.port) in url for url in seen)
