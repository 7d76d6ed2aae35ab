"""Blob references, with a real relay (Azurite, the folder transport for internet mail) and real
boxes: bytes a box holds never come down again, a box that lost a file gets it again, a forward
names the attachment it received (or asked for) instead of uploading it, one the relay no longer
keeps goes again with its bytes, and a box naming another box's attachment by its digest gets a
refusal, never the bytes."""

import email
import email.policy
import hashlib
import json
import os
import time

import pytest
import sqlalchemy as sa

from appliance.store import blob_refs, messages, placeholders
from appliance.store.messages import FAILED, INBOX, QUEUED, SENT, UPLOADED
from appliance.store.tables import attachments, relay_blobs
from appliance.store.tables import messages as messages_table
from relay.schema import outbound
# The relay's database: SQLite, or PostgreSQL where a test asks (holdings' queries on both).
from tests.relay.accounts_support import database_url  # noqa: F401
from tests.relay.conftest import deliver

REPORT = os.urandom(300 * 1024)  # does not compress: its bytes show in the figures
SHA = hashlib.sha256(REPORT).hexdigest()
FEW_KB = 8 * 1024


@pytest.fixture
def relay_overrides(request, relay_overrides):
    """Internet mail goes to the relay's outbound folder; 300 KB comes without being asked for
    (a test may give another automatic limit)."""
    return {**relay_overrides, "outbound_transport": "folder",
            "sync_attachment_limit": getattr(request, "param", 1024 * 1024)}


async def _report_mail(relay, to, subject):
    await deliver(relay, to, subject=subject, body=f"{subject}: see the attachment.",
                  attachments=[("report.pdf", "application/pdf", REPORT)])


def _attachments(box, subject):
    with box.store.read() as conn:
        return conn.execute(sa.select(attachments).join(messages_table, messages_table.c.id == attachments.c.message_id)
                            .where(messages_table.c.subject == subject)).mappings().all()


async def _goma_with_the_report(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    await _report_mail(relay, "marie@goma.relay.test", "The report")
    first = await goma.sync()
    assert first.ok and first.messages_down == 1, first.error
    assert first.blob_bytes_down > len(REPORT)
    return goma, marie


def _forward(goma, marie, attachment):
    draft = messages.Draft(to=[("", "friend@example.com")], subject="Fwd: The report", body="For you.",
                           kept_attachments=[attachment["id"]])
    with goma.store.write() as conn:
        return messages.send(goma.store, conn, marie, draft)


def _sent_attachment(relay):
    [sent] = list(relay.settings.sent_folder.glob("*.eml"))
    [part] = list(email.message_from_bytes(sent.read_bytes(), policy=email.policy.default).iter_attachments())
    return part.get_filename(), part.get_content()


@pytest.mark.gen_test(timeout=90)
async def test_an_attachment_the_box_holds_comes_down_once(relay, make_box):
    goma, marie = await _goma_with_the_report(relay, make_box)
    await _report_mail(relay, "marie@goma.relay.test", "The report, again")
    second = await goma.sync()
    assert second.ok and second.messages_down == 1, second.error
    assert second.blob_bytes_down < FEW_KB, second.blob_bytes_down  # the record alone: no 300 KB
    assert sorted(row["subject"] for row in goma.folder(marie, INBOX)) == ["The report", "The report, again"]
    [again] = _attachments(goma, "The report, again")
    assert (again["name"], again["size"], again["sha256"]) == ("report.pdf", len(REPORT), SHA)
    with goma.store.read() as conn:  # on the message page: a file to download, not "coming"
        assert placeholders.shown(goma.store, conn, [again])[again["id"]].state == placeholders.HERE
    assert goma.store.attachment_files.read(again["sha256"]) == REPORT


@pytest.mark.gen_test(timeout=90)
async def test_a_box_that_lost_the_file_gets_it_again(relay, make_box):
    goma, marie = await _goma_with_the_report(relay, make_box)
    goma.store.attachment_files.path(SHA).unlink()  # a card restored from an old copy, say
    await _report_mail(relay, "marie@goma.relay.test", "The report, again")
    second = await goma.sync()
    assert second.ok and second.messages_down == 1, second.error
    assert second.blob_bytes_down > len(REPORT)  # asked for in the same sync, sent again
    assert goma.store.attachment_files.read(SHA) == REPORT
    third = await goma.sync()  # and only once
    assert third.ok and third.blob_bytes_down < FEW_KB, third.blob_bytes_down


@pytest.mark.gen_test(timeout=90)
async def test_a_box_that_lost_a_file_the_relay_keeps_gets_it_at_its_next_sync(relay, make_box):
    goma, marie = await _goma_with_the_report(relay, make_box)
    goma.store.attachment_files.path(SHA).unlink()
    again = await goma.sync()
    assert again.ok and again.messages_down == 0, again.error
    assert again.blob_bytes_down > len(REPORT)
    assert goma.store.attachment_files.read(SHA) == REPORT
    assert (await goma.sync()).blob_bytes_down < FEW_KB  # once


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.gen_test(timeout=90)
async def test_forwarding_a_received_attachment_uploads_a_reference(relay, make_box):
    goma, marie = await _goma_with_the_report(relay, make_box)
    [received] = _attachments(goma, "The report")
    forward_id = _forward(goma, marie, received)
    up = await goma.sync()
    assert up.ok and up.messages_up == 1, up.error
    assert up.blob_bytes_up < FEW_KB, up.blob_bytes_up  # the record names the attachment; no bytes
    await relay.send_all()
    assert _sent_attachment(relay) == ("report.pdf", REPORT)  # the internet copy is whole
    assert (await goma.sync()).ok
    assert goma.message(forward_id)["state"] == SENT


@pytest.mark.parametrize("relay_overrides", [100 * 1024], indirect=True)
@pytest.mark.gen_test(timeout=90)
async def test_an_attachment_asked_for_then_forwarded_uploads_a_reference(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    await _report_mail(relay, "marie@goma.relay.test", "The report")
    first = await goma.sync()
    assert first.ok and first.blob_bytes_down < FEW_KB, first.error  # a placeholder: over the limit
    [held] = _attachments(goma, "The report")
    with goma.store.write() as conn:
        placeholders.ask(goma.store, conn, marie, held)
    asked = await goma.sync()
    assert asked.ok and asked.blob_bytes_down > len(REPORT), asked.error
    assert goma.store.attachment_files.read(SHA) == REPORT
    _forward(goma, marie, held)
    up = await goma.sync()
    assert up.ok and up.messages_up == 1 and up.blob_bytes_up < FEW_KB, (up.error, up.blob_bytes_up)
    await relay.send_all()
    assert _sent_attachment(relay) == ("report.pdf", REPORT)


@pytest.mark.gen_test(timeout=90)
async def test_a_reference_to_the_boxs_own_upload_still_queued_is_resolved_from_it(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    goma.send(marie, ["friend@example.com"], "The report", files=[("report.pdf", "application/pdf", REPORT)])
    first = await goma.sync()
    assert first.ok and first.blob_bytes_up > len(REPORT), first.error
    with goma.store.write() as conn:  # a box that counts its own upload as held (the relay keeps it queued)
        conn.execute(relay_blobs.insert().values(sha256=SHA, received_at=int(time.time())))
    goma.send(marie, ["other@example.com"], "The report, again", files=[("report.pdf", "application/pdf", REPORT)])
    second = await goma.sync()
    assert second.ok and second.messages_up == 1 and second.blob_bytes_up < FEW_KB, second.error
    await relay.send_all()
    sent = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in relay.settings.sent_folder.glob("*.eml")]
    assert sorted(mail["Subject"] for mail in sent) == ["The report", "The report, again"]
    assert all([part.get_content() for part in mail.iter_attachments()] == [REPORT] for mail in sent)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.gen_test(timeout=90)
async def test_a_box_naming_another_boxs_attachment_gets_a_refusal_not_the_bytes(relay, make_box):
    await _goma_with_the_report(relay, make_box)
    bukavu = await make_box("bukavu")
    jean = bukavu.user("jean")
    assert (await bukavu.sync()).ok  # it learns how long the relay keeps mail
    sent_id = bukavu.send(jean, ["friend@example.com"], "Guessed", files=[("report.pdf", "application/pdf", REPORT)])
    bukavu.store.attachment_files.path(SHA).unlink()  # it never had the bytes, only their digest...
    with bukavu.store.write() as conn:  # ...and claims the relay sent them
        conn.execute(relay_blobs.insert().values(sha256=SHA, received_at=int(time.time())))
        assert blob_refs.relay_holds(conn, SHA)
    result = await bukavu.sync()
    assert result.ok, result.error
    assert result.blob_bytes_up < FEW_KB and result.blob_bytes_down < FEW_KB
    sent = bukavu.message(sent_id)
    assert sent["state"] == FAILED and "no longer on the box nor on the relay" in sent["state_reason"]
    with relay.engine.connect() as db:  # held back, nothing of goma's with it
        assert db.execute(sa.select(outbound.c.state, outbound.c.payload)).all() == [("resend", b"")]
    await relay.send_all()
    assert not list(relay.settings.sent_folder.glob("*.eml"))


@pytest.mark.gen_test(timeout=90)
async def test_a_reference_the_relay_no_longer_resolves_goes_again_with_its_bytes(relay, make_box):
    goma, marie = await _goma_with_the_report(relay, make_box)
    [received] = _attachments(goma, "The report")
    with relay.engine.begin() as db:  # retention cleared the mail that brought it
        db.execute(sa.text("UPDATE inbound SET prepared = NULL, raw = :empty, cleared_at = 1"), {"empty": b""})
    forward_id = _forward(goma, marie, received)
    beside_id = goma.send(marie, ["friend@example.com"], "Beside it")
    held_back = await goma.sync()
    assert held_back.ok and held_back.blob_bytes_up < FEW_KB, held_back.error
    assert goma.message(forward_id)["state"] == QUEUED  # back in the outbox, for the next sync
    await relay.send_all()
    [beside] = list(relay.settings.sent_folder.glob("*.eml"))  # the mail beside it went on
    assert email.message_from_bytes(beside.read_bytes())["Subject"] == "Beside it"
    beside.unlink()
    again = await goma.sync()
    assert again.ok and again.messages_up == 1 and again.blob_bytes_up > len(REPORT), again.error
    await relay.send_all()
    assert _sent_attachment(relay) == ("report.pdf", REPORT)
    assert (await goma.sync()).ok
    assert (goma.message(beside_id)["state"], goma.message(forward_id)["state"]) == (SENT, SENT)


@pytest.mark.gen_test(timeout=90)
async def test_a_box_saying_it_lost_another_boxs_attachment_gets_nothing(relay, make_box):
    goma, _ = await _goma_with_the_report(relay, make_box)
    [received] = _attachments(goma, "The report")
    relay_id = goma.message(received["message_id"])["origin_id"].removeprefix("relay:")
    bukavu = await relay.register("bukavu")
    missing = [{"message": relay_id, "sha256": SHA}, {"message": "²", "sha256": SHA}]  # goma's; not an id
    response = await relay.post_json("/api/v1/sync", {"received": [], "missing": missing}, bukavu.token)
    assert response.code == 200, response.body
    assert json.loads(response.body)["downloads"] == []  # no pouch, let alone one with the bytes
    with relay.engine.connect() as db:  # goma's own mail is as it was: delivered, nothing to send again
        assert db.execute(sa.text("SELECT blobs_pouch_name IS NOT NULL AND blobs_delivered_at IS NOT NULL "
                                  "FROM deliveries")).scalars().all() == [True]
    garbage = [{"sha256": "not a digest"}]
    response = await relay.post_json("/api/v1/sync", {"received": [], "missing": garbage}, bukavu.token)
    assert response.code == 400 and b"missing" in response.body


@pytest.mark.gen_test(timeout=90)
async def test_a_message_whose_file_is_gone_fails_alone(relay, make_box):
    bukavu = await make_box("bukavu")
    jean = bukavu.user("jean")
    lost_id = bukavu.send(jean, ["friend@example.com"], "Lost", files=[("report.pdf", "application/pdf", REPORT)])
    bukavu.store.attachment_files.path(SHA).unlink()  # not one the relay holds: nothing names it by reference
    fine_id = bukavu.send(jean, ["friend@example.com"], "Fine")
    assert (await bukavu.sync()).ok
    await relay.send_all()
    assert (await bukavu.sync()).ok
    assert bukavu.message(fine_id)["state"] == SENT
    lost = bukavu.message(lost_id)
    assert lost["state"] == FAILED and "is missing" in lost["state_reason"]


@pytest.mark.gen_test(timeout=90)
async def test_a_forward_by_reference_costs_the_sync_budget_no_attachment_bytes(relay, make_box):
    goma = await make_box("goma", budget_bytes=30_000)
    marie = goma.user("marie")
    await _report_mail(relay, "marie@goma.relay.test", "The report")
    while not goma.store.attachment_files.has(SHA):  # a pouch at a time over the budget
        assert (await goma.sync()).ok
    [received] = _attachments(goma, "The report")
    forward_id = _forward(goma, marie, received)
    note_id = goma.send(marie, ["friend@example.com"], "A note", body="Sent you the report.")
    up = await goma.sync()
    assert up.ok and up.messages_up == 2 and up.blob_bytes_up < FEW_KB, up.error  # both fit the budget
    assert (goma.message(forward_id)["state"], goma.message(note_id)["state"]) == (UPLOADED, UPLOADED)
