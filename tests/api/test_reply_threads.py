"""A reply from the internet finds the thread of the message it answers, whatever its subject:
box -> relay -> SendGrid (the stand-in) carries the box's Message-ID and Date, and a reply
naming that id, posted to the relay's Inbound Parse webhook, lands in the sender's thread on
the box (its JSON API shows the thread)."""

import json
from email.utils import parsedate_to_datetime

import pytest
from tornado.httpclient import AsyncHTTPClient

from appliance.store import tokens
from tests.api.test_send_leaves import serve_api
from tests.relay.conftest import email_bytes
# The sync tests' fixtures: a relay, and boxes registered with it (they win over tests/api's).
from tests.sync.conftest import (  # noqa: F401 (fixtures)
    app, database_url, direct_urls, engine, make_box, proxy, public_url, relay, relay_overrides,
    settings, store, through_proxy)


@pytest.mark.gen_test(timeout=90)
async def test_an_outside_reply_lands_in_the_senders_thread(relay, make_box, sendgrid_standin):
    goma = await make_box("goma")
    marie = goma.user("marie")
    sent_id = goma.send(marie, ["friend@example.com"], "Meeting on Friday", body="Shall we meet at ten?")
    assert (await goma.sync()).ok
    await relay.send_all()

    [mail] = sendgrid_standin.accepted
    written = goma.message(sent_id)
    assert mail["headers"]["Message-ID"] == f"<{written['message_id']}>"
    assert parsedate_to_datetime(mail["headers"]["Date"]).timestamp() == written["date"]

    # The friend's client answers with a subject of its own: only In-Reply-To can thread it.
    reply = (f"In-Reply-To: {mail['headers']['Message-ID']}\r\n".encode()
             + email_bytes("marie@goma.relay.test", subject="Ten is fine", sender="friend@example.com"))
    answer = await relay.webhook({"email": reply, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
    assert answer.code == 200
    assert (await goma.sync()).ok

    with goma.store.write() as conn:
        token = tokens.create(conn, marie["id"], "phone")
    server, api_url = await serve_api(goma)
    client = AsyncHTTPClient()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        sent = json.loads((await client.fetch(f"{api_url}/messages/{sent_id}", headers=headers)).body)
        thread = json.loads((await client.fetch(f"{api_url}/threads/{sent['thread_id']}?view=expanded",
                                                headers=headers)).body)
        [answered] = [m for m in thread["messages"] if m["id"] != str(sent_id)]
        answered = json.loads((await client.fetch(f"{api_url}/messages/{answered['id']}?view=expanded",
                                                  headers=headers)).body)
    finally:
        server.stop()
    assert sorted(m["subject"] for m in thread["messages"]) == ["Meeting on Friday", "Ten is fine"]
    assert answered["folder"]["name"] == "inbox"
    assert answered["headers"]["In-Reply-To"] == mail["headers"]["Message-ID"]
