"""A per-sync byte budget: text goes first, big attachments wait for the next sync (and are shown as coming)."""

import json
import os

import pytest
import sqlalchemy as sa

from appliance.store import sync_state
from appliance.store.messages import INBOX, QUEUED, UPLOADED
from appliance.store.tables import attachments, messages
from tests.relay.conftest import email_bytes

BUDGET = 30_000
BIG = 100_000  # incompressible attachment bytes


def coming(box, subject):
    """Names of the attachments of ``subject`` whose bytes the box does not have yet."""
    with box.store.read() as conn:
        rows = conn.execute(sa.select(attachments.c.name, attachments.c.sha256)
                            .join(messages, messages.c.id == attachments.c.message_id)
                            .where(messages.c.subject == subject)).all()
    return [row.name for row in rows if not box.store.attachment_files.has(row.sha256)]


@pytest.fixture
def relay_overrides(relay_overrides):
    return dict(relay_overrides, sync_pouch_max_bytes=50_000, sync_big_message_bytes=20_000)


@pytest.mark.gen_test(timeout=60)
async def test_text_goes_first_and_big_attachments_wait_for_the_next_sync(relay, make_box):
    goma = await make_box("goma", budget_bytes=BUDGET)
    marie = goma.user("marie")
    big_out = goma.send(marie, ["friend@example.com"], "big out",
                        files=[("video.bin", "application/octet-stream", os.urandom(BIG))])
    small_out = [goma.send(marie, ["friend@example.com"], f"small out {i}") for i in range(3)]
    for subject, files in [("big in", [("video.bin", "application/octet-stream", os.urandom(BIG))]),
                           *((f"small in {i}", []) for i in range(3))]:
        raw = email_bytes("marie@goma.relay.test", subject=subject, attachments=files)
        answer = await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
        assert answer.code == 200

    first = await goma.sync()
    assert first.ok, first.error
    assert [goma.message(i)["state"] for i in small_out] == [UPLOADED] * 3
    assert goma.message(big_out)["state"] == QUEUED
    # The big message's text came too; its attachment is on its way.
    assert sorted(m["subject"] for m in goma.folder(marie, INBOX)) == ["big in"] + [f"small in {i}" for i in range(3)]
    assert coming(goma, "big in") == ["video.bin"]
    assert first.bytes_up + first.bytes_down < BUDGET
    with goma.store.read() as conn:  # shown on the admin page
        assert sync_state.waiting(conn)["bytes"] > BIG

    # What is bigger than the budget goes alone, first in a sync: the upload, then the download.
    second = await goma.sync()
    assert second.ok and second.messages_down == 0, second.error
    assert goma.message(big_out)["state"] == UPLOADED
    third = await goma.sync()
    assert third.ok and third.messages_down == 0, third.error
    assert coming(goma, "big in") == []
    with goma.store.read() as conn:
        assert sync_state.waiting(conn) == {"pouches": 0, "bytes": 0}
