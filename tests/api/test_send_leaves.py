"""Mail sent through the API leaves with the box's next sync, as mail written in the web
client does: a real relay (blobs on Azurite, the SendGrid stand-in) and the box's own sync job."""

import json

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from appliance.store import tokens
from appliance.store.messages import SENT
from appliance.server import make_app as make_box_app
# The sync tests' fixtures: a relay, and boxes registered with it (they win over tests/api's).
from tests.sync.conftest import (  # noqa: F401 (fixtures)
    app, database_url, direct_urls, engine, make_box, proxy, public_url, relay, relay_overrides,
    settings, store, through_proxy)


async def serve_api(box, ssl_options=None):
    """The box's web app (the API included), on a free port of the test's own loop."""
    box_app = make_box_app(box.settings, box.store.engine)
    sock, port = bind_unused_port()
    server = HTTPServer(box_app, ssl_options=ssl_options)
    server.add_sockets([sock])
    return server, f"{'https' if ssl_options else 'http'}://127.0.0.1:{port}/api"


@pytest.mark.gen_test(timeout=90)
async def test_api_mail_leaves_with_the_next_sync(relay, make_box, sendgrid_standin):
    goma = await make_box("goma")
    marie = goma.user("marie")
    with goma.store.write() as conn:
        token = tokens.create(conn, marie["id"], "phone")
    server, api_url = await serve_api(goma)
    client = AsyncHTTPClient()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        goma.send(marie, ["web@example.com"], "Written in the web client")
        answer = await client.fetch(api_url + "/send", method="POST", headers=headers, body=json.dumps(
            {"subject": "Written in an app", "body": "<p>Hello</p>",
             "to": [{"name": "App friend", "email": "app@example.com"}]}))
        sent = json.loads(answer.body)
        assert sent["folder"]["name"] == "outbox" and sent["state"] == "queued"

        first = await goma.sync()
        assert first.ok and first.messages_up == 2, first.error
        await relay.send_all()
        delivered = {mail["subject"]: [to["email"] for p in mail["personalizations"] for to in p["to"]]
                     for mail in sendgrid_standin.accepted}
        assert delivered == {"Written in the web client": ["web@example.com"],
                             "Written in an app": ["app@example.com"]}

        await goma.sync()  # the relay's report comes back
        assert goma.message(int(sent["id"]))["state"] == SENT
        later = await client.fetch(f"{api_url}/messages/{sent['id']}", headers=headers)
        assert json.loads(later.body)["folder"]["name"] == "sent"
    finally:
        server.stop()
