"""Hostile records from the relay (issue: isolate failure per message): whatever a message record
holds within the format's types (as a peer that checks nothing writes it), importing its pouch never
fails as a whole, the good mail beside it arrives, and no page that shows it fails."""

import hashlib
import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.sync.importer import import_pouch
from pouch.records import (AccountStatusRecord, Attachment, BlobRecord, FlagRecord, HeldRecord, MessageRecord,
                           RefusalRecord, StatusRecord)
from tests.appliance.conftest import DOMAIN
from tests.support.pouches import addresses_or, long_text, moment, unchecked_pouch, wild_text

NUMBERS = itertools.count()
address = addresses_or(f"marie@{DOMAIN}")
attachment = st.builds(
    Attachment, name=long_text, type=wild_text, size=st.integers(0, 2**63 - 1), sha256=st.binary(min_size=32, max_size=32),
    cid=st.one_of(st.none(), wild_text), inline=st.booleans(), held=st.booleans(), preview=st.binary(max_size=200),
    original_size=st.integers(0, 2**40), original_sha256=st.one_of(st.just(b""), st.binary(min_size=32, max_size=32)))
hostile = st.builds(
    MessageRecord, id=st.one_of(wild_text, st.just("x")), from_=st.lists(address, max_size=4),
    to=st.lists(address, max_size=4), cc=st.lists(address, max_size=3), reply_to=st.lists(address, max_size=2),
    subject=long_text, date=moment, message_id=wild_text, in_reply_to=st.one_of(st.none(), wild_text),
    references=st.lists(wild_text, max_size=50), body=long_text,
    body_type=st.one_of(st.sampled_from(["text", "html"]), wild_text), attachments=st.lists(attachment, max_size=3),
    recipients=st.lists(st.one_of(st.just(f"marie@{DOMAIN}"), wild_text), max_size=3),
    extra=st.dictionaries(wild_text, st.one_of(st.booleans(), wild_text, st.integers(-2**63, 2**63 - 1), st.none()), max_size=3),
    automatic=st.booleans(), parent=st.one_of(st.just(""), wild_text), packed_body=st.binary(max_size=64))

big = st.integers(0, 2**63 - 1)
relay_kinds = st.one_of(
    st.builds(StatusRecord, message_id=wild_text, state=st.one_of(st.sampled_from(["sent", "failed", "queued"]), wild_text),
              at=big, reason=long_text),
    st.builds(AccountStatusRecord, id=wild_text, state=wild_text, at=big, error=long_text, synced_at=big),
    st.builds(FlagRecord, message_id=wild_text, seen=st.booleans(), at=big),
    st.builds(HeldRecord, id=wild_text, from_=st.lists(address, max_size=2), subject=long_text, size=big,
              score=st.floats(-1e5, 1e5), date=moment, recipients=st.lists(st.just(f"marie@{DOMAIN}"), max_size=2),
              until=big),
    st.builds(RefusalRecord, message_id=wild_text, what=wild_text, sha256=st.binary(max_size=32), reason=long_text,
              at=big))


@pytest.fixture
def marie(make_user, client):
    make_user("marie", is_admin=True)  # the admin's pages list what was set aside
    return client("marie")


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(hostile, min_size=1, max_size=3), others=st.lists(relay_kinds, max_size=4),
       with_blobs=st.booleans())
def test_hostile_records_never_stop_the_good_mail_beside_them(store, marie, tmp_path, records, others, with_blobs):
    number = next(NUMBERS)
    good = MessageRecord(id=f"good-{number}", from_=[("Ami", "ami@example.org")], subject=f"good news {number}",
                         date=1_700_000_000, body="All is well.", recipients=[f"marie@{DOMAIN}"])
    written = list(others)
    for record in records:
        record.id = f"{number}-{record.id}"[:300]
        for attached in record.attachments if with_blobs else ():
            data = b"bytes of " + attached.sha256  # the attachment then names these bytes
            attached.sha256 = hashlib.sha256(data).digest()
            written.append(BlobRecord(attached.sha256, data))
        written.append(record)
    path = tmp_path / f"{number}.pouch"
    path.write_bytes(unchecked_pouch([*written, good], sender="relay", recipient="goma"))
    import_pouch(store, path, f"goma/down/{number}.pouch")
    inbox = marie.get("/")
    assert inbox.status_code == 200 and f"good news {number}" in inbox.text
    for thread in sorted(set(re.findall(r'href="(/thread/\d+)', inbox.text)))[:8]:
        shown = marie.get(thread)
        assert shown.status_code == 200, (thread, shown.text[-2000:])
        for link in sorted(set(re.findall(r'(?:href|src)="(/attachment/[^"]+)"', shown.text)))[:6]:
            assert marie.get(link).status_code < 500, link
    for page in ("/search?q=good", "/admin/sync", "/folder/held", "/folder/sent", "/settings/addresses"):
        answer = marie.get(page)
        assert answer.status_code < 500, (page, answer.text[-2000:])
