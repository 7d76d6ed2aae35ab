"""The relay's side of replies packed against their parents, on SQLite and PostgreSQL: a reply
comes down packed only to the box that acked its parent, a box's packed reply leaves whole, and
no box can use another box's mail as the dictionary of its own."""

import msgpack
import pytest

from pouch import replies
from relay.boxsync import reply_parents
from pouch.records import MessageRecord
from tests.relay.test_outbound_sendgrid import relay_overrides, statuses  # noqa: F401 (fixture)
from tests.sync.test_reply_compression import PARENT, QUOTING, post


def messages_in(records):
    return [record for record in records if isinstance(record, MessageRecord)]


async def goma_holding_the_parent(relay, tmp_path):
    goma = await relay.register("goma")
    await post(relay, "marie@goma.relay.test", "Clinic works", PARENT, "parent@example.org")
    [parent] = messages_in((await goma.receive(tmp_path))[1])  # downloaded and acked
    assert parent.body == PARENT and not parent.packed_body
    return goma


@pytest.mark.gen_test(timeout=60)
async def test_a_reply_comes_down_packed_only_to_the_box_that_acked_its_parent(relay, tmp_path):
    goma = await goma_holding_the_parent(relay, tmp_path)
    bukavu = await relay.register("bukavu")
    for box in ("goma", "bukavu"):  # bukavu never had it: the same Message-ID names nothing of its own
        await post(relay, f"marie@{box}.relay.test", "Re: Clinic works", QUOTING, f"reply.{box}@example.org",
                   in_reply_to="parent@example.org")
    [packed] = messages_in((await goma.receive(tmp_path))[1])
    assert packed.parent == "parent@example.org" and packed.body == "" and len(packed.packed_body) < 400
    assert replies.expanded(packed, PARENT).body == QUOTING
    [whole] = messages_in((await bukavu.receive(tmp_path))[1])
    assert whole.body == QUOTING and not whole.packed_body and not whole.parent


def a_box_reply(record_id, parent_id, parent_text):
    record = MessageRecord(id=record_id, from_=[("Marie", "marie@goma.relay.test")], to=[("", "ami@example.org")],
                           subject="Re: Clinic works", message_id=f"{record_id}@goma.relay.test",
                           in_reply_to=parent_id, references=[parent_id], body=QUOTING)
    return replies.compressed(record, parent_id, parent_text)


@pytest.mark.gen_test(timeout=60)
async def test_a_packed_reply_from_the_box_leaves_whole(relay, sendgrid_standin, tmp_path):
    goma = await goma_holding_the_parent(relay, tmp_path)
    await goma.send(tmp_path, [(a_box_reply("r-1", "parent@example.org", PARENT), {})])
    await relay.send_all()
    [body] = sendgrid_standin.accepted
    assert [part["value"].replace("\r\n", "\n").rstrip("\n") for part in body["content"]
            if part["type"] == "text/plain"] == [QUOTING]


@pytest.mark.gen_test(timeout=60)
async def test_a_box_cannot_use_another_boxs_mail_as_its_dictionary(relay, sendgrid_standin, tmp_path):
    """Were it expanded, its checksum would tell bukavu whether it guessed goma's mail right."""
    await goma_holding_the_parent(relay, tmp_path)
    bukavu = await relay.register("bukavu")
    guess = a_box_reply("r-2", "parent@example.org", PARENT)
    guess.from_ = [("Jean", "jean@bukavu.relay.test")]
    await bukavu.send(tmp_path, [(guess, {})])
    await relay.send_all()
    assert sendgrid_standin.accepted == []
    [(state, reason)] = statuses((await bukavu.receive(tmp_path))[1]).values()
    assert state == "failed" and "is not held here" in reason


@pytest.mark.gen_test(timeout=60)
async def test_the_replies_of_one_upload_expand_within_a_budget(relay, sendgrid_standin, tmp_path, monkeypatch):
    monkeypatch.setattr(reply_parents, "UPLOAD_EXPANDED_BYTES", len(QUOTING) // 2)
    goma = await goma_holding_the_parent(relay, tmp_path)
    await goma.send(tmp_path, [(a_box_reply(f"r-{n}", "parent@example.org", PARENT), {}) for n in range(3)])
    await relay.send_all()
    assert len(sendgrid_standin.accepted) == 1  # the first; then the budget is spent
    fates = statuses((await goma.receive(tmp_path))[1])
    assert sorted(state for state, _ in fates.values()) == ["failed", "failed", "sent"]
    assert all("expand to more than" in reason for state, reason in fates.values() if state == "failed")


@pytest.mark.parametrize("head", [b"", b"\xc1\xc1garbage", b"\x92\x93\x01\xa1x", b"\x92\x9a\x01\xa11\x91\x92\x01\x02"])
def test_a_payload_head_that_does_not_read_names_no_sender(head):
    assert reply_parents.sender_of(head) is None


def test_the_sender_of_a_payload_or_raw_mime_is_its_first_from_address_lower_cased():
    head = msgpack.packb([[1, "7", [["Ami", "Ami@Example.ORG"]], []], []])
    assert reply_parents.sender_of(head) == "ami@example.org"
    assert reply_parents.sender_in_mime(b"From: Ami <Ami@Example.ORG>\r\nSubject: x\r\n\r\nhi") == "ami@example.org"
    assert reply_parents.sender_in_mime(b"From: =?bogus?Q?\xff\xfe?= <>\r\n\r\n") is None
