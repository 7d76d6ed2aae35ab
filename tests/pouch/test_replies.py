"""A reply packed against its parent: round trip through a pouch, refusals, and only when it pays."""

import io

import pytest

from pouch import replies
from pouch.container import PouchReader, PouchWriter
from pouch.records import MessageRecord

WORDS = ("generator clinic diesel Thursday vaccination solar charge controller checked fuse spare "
         "market road bridge rain water school teacher fees harvest cassava maize price truck").split()
PARENT_BODY = "\n".join(" ".join(WORDS[(n * 7 + k * k * 3 + n * k) % len(WORDS)] for k in range(12))
                        for n in range(40))
REPLY_BODY = ("Yes, I can bring the diesel on Wednesday.\n\nOn Monday Amani wrote:\n"
              + "\n".join("> " + line for line in PARENT_BODY.splitlines()))


def parent():
    return MessageRecord(id="p1", from_=[("Amani", "amani@box1.example")], subject="Clinic",
                         message_id="parent.1@box1.example", body=PARENT_BODY)


def reply(body=REPLY_BODY):
    return MessageRecord(id="r1", from_=[("Jo", "jo@example.org")], subject="Re: Clinic",
                         message_id="reply.1@example.org", in_reply_to="parent.1@box1.example",
                         references=["parent.1@box1.example"], body=body)


def through_a_pouch(record):
    out = io.BytesIO()
    with PouchWriter(out, sender="relay", recipient="box1") as writer:
        writer.add(record)
    out.seek(0)
    (read,) = list(PouchReader(out))
    return read, len(out.getvalue())


def test_a_quoting_reply_travels_packed_in_fewer_bytes_and_reads_back_whole():
    packed = replies.compress(reply(), parent())
    assert packed.parent == "parent.1@box1.example" and packed.body == "" and packed.packed_body
    read, size = through_a_pouch(packed)
    _, plain_size = through_a_pouch(reply())
    assert size < plain_size * 0.7
    whole = replies.expand(read, {"parent.1@box1.example": PARENT_BODY}.get)
    assert whole.body == REPLY_BODY and whole.parent == "" and whole.packed_body == b""
    assert reply().body == REPLY_BODY  # the record given is not changed


def test_a_record_not_packed_is_returned_as_it_is():
    record = reply()
    assert replies.expand(record, lambda message_id: pytest.fail("no parent needed")) is record


def test_the_parent_is_in_reply_to_else_the_last_reference():
    assert replies.parent_id(reply()) == "parent.1@box1.example"
    assert replies.parent_id(MessageRecord(id="x", from_=[], references=["a@x", "b@x"])) == "b@x"
    assert replies.parent_id(MessageRecord(id="x", from_=[])) == ""


def test_a_wrong_parent_is_refused_with_a_reason():
    packed = replies.compress(reply(), parent())
    with pytest.raises(replies.ReplyError, match="does not expand against its parent"):
        replies.expanded(packed, PARENT_BODY.replace("diesel", "petrol"))
    with pytest.raises(replies.ReplyError, match="not held here"):
        replies.expand(packed, lambda message_id: None)


@pytest.mark.parametrize("garbage", [b"", b"not zstd at all", b"\x28\xb5\x2f\xfd" + b"\xff" * 20])
def test_garbage_is_refused_with_a_reason(garbage):
    record = reply()
    record.parent, record.packed_body, record.body = "parent.1@box1.example", garbage, ""
    with pytest.raises(replies.ReplyError):
        replies.expand(record, {"parent.1@box1.example": PARENT_BODY}.get)


def test_a_truncated_frame_is_refused():
    packed = replies.compress(reply(), parent())
    packed.packed_body = packed.packed_body[:-6]
    with pytest.raises(replies.ReplyError):
        replies.expanded(packed, PARENT_BODY)


def test_a_frame_claiming_a_huge_body_is_refused_before_expanding():
    import zstandard
    bomb = zstandard.ZstdCompressor(write_checksum=True).compress(b"\0" * (31 * 1024 * 1024))
    record = reply()
    record.parent, record.packed_body, record.body = "parent.1@box1.example", bomb, ""
    with pytest.raises(replies.ReplyError, match="would expand to"):
        replies.expanded(record, PARENT_BODY)


def test_a_reply_that_quotes_nothing_is_not_packed():
    fresh = reply("Thanks, see you there. Bring the charger and the spare fuse, please.")
    assert replies.compress(fresh, parent()) is fresh


def test_no_parent_text_no_packing():
    empty_parent = parent()
    empty_parent.body = ""
    assert replies.compressed(reply(), "parent.1@box1.example", "") is None
    assert replies.compress(reply(), empty_parent).packed_body == b""


def test_a_few_bytes_naming_a_parent_may_not_expand_to_many_times_it():
    repeated = reply("\n".join([PARENT_BODY] * 8))  # it quotes its parent eight times over
    assert replies.compress(repeated, parent()) is repeated  # sent whole: the reader would refuse it
    repeated.parent, repeated.packed_body = "parent.1@box1.example", replies.pack_body(repeated.body, PARENT_BODY)
    with pytest.raises(replies.ReplyError, match="against its parent"):
        replies.expanded(repeated, PARENT_BODY)
