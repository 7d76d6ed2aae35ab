"""A box is untrusted input (trust no peer): whatever records a box uploads, within the format's
types, the relay takes the upload, answers each message with a status, sends the good mail beside
them once, and goes on syncing.  Records drawn by Hypothesis, written as a box that checks nothing
would write them, on the real relay."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pouch import limits
from pouch.records import (STATUS_FAILED, STATUS_SENT, AccountRecord, Attachment, BoxSettingsRecord, FlagRecord,
                           MessageRecord, RequestRecord, StatusRecord, VerdictRecord)
from tests.relay.test_upload_trust import send_file, sent_subjects
from tests.support.pouches import addresses_or, long_text, moment, unchecked_pouch, wild_text

OWN = "marie@goma.relay.test"
address = addresses_or("friend@example.com")
NUMBERS = itertools.count()
own_or_wild = st.one_of(st.just(("Marie", OWN)), address)
attachment = st.builds(Attachment, name=long_text, type=wild_text, size=st.integers(0, 2**63 - 1),
                       sha256=st.binary(min_size=32, max_size=32), cid=st.one_of(st.none(), wild_text),
                       inline=st.booleans())
message = st.builds(
    MessageRecord, id=wild_text, from_=st.lists(own_or_wild, min_size=0, max_size=2),
    to=st.lists(address, max_size=3), cc=st.lists(address, max_size=2), bcc=st.lists(address, max_size=2),
    reply_to=st.lists(address, max_size=2), subject=long_text, date=moment, message_id=wild_text,
    in_reply_to=st.one_of(st.none(), wild_text), references=st.lists(wild_text, max_size=20), body=long_text,
    body_type=st.one_of(st.sampled_from(["text", "html"]), wild_text), attachments=st.lists(attachment, max_size=2),
    extra=st.dictionaries(wild_text, st.one_of(st.booleans(), wild_text, st.integers(-2**63, 2**63 - 1)), max_size=3),
    parent=st.one_of(st.just(""), wild_text), packed_body=st.binary(max_size=64))
other = st.one_of(
    st.builds(AccountRecord, id=wild_text, owner=st.one_of(st.just(OWN), wild_text), address=wild_text,
              state=st.one_of(st.sampled_from(["active", "paused", "removed"]), wild_text), sealed=st.binary(max_size=80)),
    st.builds(FlagRecord, message_id=wild_text, seen=st.booleans(), at=st.integers(0, 2**63 - 1)),
    st.builds(VerdictRecord, message_id=wild_text, spam=st.booleans(), at=st.integers(0, 2**63 - 1), user=wild_text),
    st.builds(RequestRecord, what=st.one_of(st.sampled_from(["held", "attachment", "original"]), wild_text),
              message_id=wild_text, sha256=st.one_of(st.just(b""), st.binary(min_size=32, max_size=32)),
              at=st.integers(0, 2**63 - 1), user=wild_text),
    st.builds(BoxSettingsRecord, spam_threshold=st.floats(-1e5, 1e5), attachment_limit=st.integers(0, 2**63 - 1),
              user_limits=st.dictionaries(wild_text, st.integers(0, 2**63 - 1), max_size=3),
              at=st.integers(0, 2**63 - 1)))


@pytest.fixture
def goma(relay, io_loop):
    return io_loop.run_sync(lambda: relay.register("goma"))


@settings(max_examples=20, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(messages=st.lists(message, max_size=3), others=st.lists(other, max_size=4))
def test_hostile_uploads_never_stop_the_good_mail_beside_them(relay, goma, io_loop, tmp_path, messages, others):
    number = next(NUMBERS)
    good = MessageRecord(id=f"good-{number}", from_=[("Marie", OWN)], to=[("", "friend@example.com")],
                         subject=f"good news {number}", date=1_700_000_000, body="All is well.")
    for index, record in enumerate(messages):
        record.id = f"{number}-{index}-{record.id}"[:150]

    path = tmp_path / "outgoing.pouch"
    path.write_bytes(unchecked_pouch([*others, *messages, good], sender="box", recipient="relay"))

    async def exchange():
        name, answer = await send_file(goma, path)
        assert answer["accepted"] == [name], answer
        await relay.send_all()
        return await goma.receive(tmp_path)

    _, records = io_loop.run_sync(exchange, timeout=60)
    assert sent_subjects(relay).count(f"good news {number}") == 1
    fates = {r.message_id: r.state for r in records if isinstance(r, StatusRecord)}
    assert fates[good.id] == STATUS_SENT
    # Each is answered, but for an id with a NUL, which no box makes and no status could carry.
    answerable = [record.id for record in messages if limits.storable(record.id)]
    assert all(fates.get(record_id) in (STATUS_SENT, STATUS_FAILED) for record_id in answerable), fates
