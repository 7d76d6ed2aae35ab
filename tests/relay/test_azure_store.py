"""The relay with Azure blob storage (Azurite): the box moves pouches through SAS URLs."""

import json
import uuid

import pytest

from pouch import mime
from pouch.records import MessageRecord
from tests.relay.conftest import email_bytes


@pytest.fixture
def database_url(tmp_path):  # the database is not what this module is about
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def relay_overrides(azurite):
    return {"storage_kind": "azure", "storage_azure_connection_string": azurite.connection_string,
            "storage_azure_container": f"relay-{uuid.uuid4().hex[:12]}"}


@pytest.mark.gen_test(timeout=60)
async def test_pouches_travel_through_azure_both_ways(relay, tmp_path):
    goma = await relay.register("goma")
    raw = email_bytes("marie@goma.relay.test", subject="Via Azure")
    assert (await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})).code == 200
    names, records = await goma.receive(tmp_path)
    assert names and [r.subject for r in records if isinstance(r, MessageRecord)] == ["Via Azure"]
    assert "sig=" in (await goma.sync(received=names, outgoing={"size": 1}))["upload"]["url"]

    parsed = mime.parse(email_bytes("friend@example.com", sender="marie@goma.relay.test"), "az-1")
    name, answer = await goma.send(tmp_path, [(parsed.record, parsed.blobs)])
    assert answer["accepted"] == [name]
    await relay.send_all()
    [sent] = relay.settings.sent_folder.iterdir()  # the folder transport's outbox
    assert b"To: friend@example.com" in sent.read_bytes()
