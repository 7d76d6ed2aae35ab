"""Spam stays on the relay (issue 16): a real spamd scores inbound mail for each box, mail at
or above the box's threshold is held and the box gets one line for it, a request brings it,
and the users' verdicts train that box's own Bayes filter."""

import json
import time
import uuid

import pytest
import sqlalchemy as sa

from pouch.records import (REQUEST_HELD, BoxSettingsRecord, HeldRecord, MessageRecord, RequestRecord,
                           VerdictRecord)
from relay import quarantine, retention
from relay.schema import boxes
from relay.spam import scoring
from tests.relay.accounts_support import database_url  # noqa: F401 (fixture: SQLite, or PostgreSQL when asked)
from tests.relay.conftest import OPERATOR_PASSWORD, OPERATOR_USER, deliver

# SpamAssassin's test string: any SpamAssassin scores a message carrying it 1000.
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
MARIE = "marie@goma.relay.test"


@pytest.fixture
def relay_overrides(spamd, request):
    return {"spam_enabled": True, "spam_host": spamd.host, "spam_port": spamd.port, **getattr(request, "param", {})}


def of_kind(records, kind):
    return [record for record in records if isinstance(record, kind)]


async def spam_and_ham(relay, to=MARIE):
    spam = await deliver(relay, to, subject="You won", body=f"Claim your prize.\n{GTUBE}\n", sender="prize@spam.example")
    await deliver(relay, to, subject="Dinner", body="Dinner at seven?")
    return spam


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.gen_test(timeout=60)
async def test_spam_is_held_as_one_line_and_a_request_brings_it_at_the_next_sync(relay, tmp_path):
    box = await relay.register("goma")
    spam = await spam_and_ham(relay)

    _, records = await box.receive(tmp_path)
    assert [m.subject for m in of_kind(records, MessageRecord)] == ["Dinner"]
    held, = of_kind(records, HeldRecord)
    assert (held.from_, held.subject, held.size, held.recipients) == (
        [("", "prize@spam.example")], "You won", len(spam), [MARIE])
    assert held.score >= 1000  # GTUBE
    assert held.until > time.time() + (relay.settings.retention.keep_days - 1) * retention.DAY_S

    _, answer = await box.send(tmp_path, [(RequestRecord(REQUEST_HELD, held.id, user="marie"), {})])
    assert not answer.get("rejected")
    _, records = await box.receive(tmp_path)
    brought, = of_kind(records, MessageRecord)
    assert (brought.id, brought.subject, GTUBE in brought.body) == (held.id, "You won", True)
    assert of_kind(records, HeldRecord) == []

    _, records = await box.receive(tmp_path)  # brought once
    assert records == []


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.gen_test(timeout=60)
async def test_a_verdict_trains_that_boxs_own_bayes_and_not_spam_brings_held_mail(relay, spamd, tmp_path):
    name = f"kisangani-{uuid.uuid4().hex[:8]}"  # its Bayes is new: spamd serves the whole session
    box, other = await relay.register(name), await relay.register("matadi")
    await deliver(relay, f"jean@{name}.relay.test", subject="Cheap watches", body="Best replica watches, cheap.")
    await spam_and_ham(relay, f"jean@{name}.relay.test")
    await deliver(relay, "paul@matadi.relay.test", subject="Meeting", body="The meeting moved to Friday.")
    _, records = await box.receive(tmp_path)
    watches, = [m for m in of_kind(records, MessageRecord) if m.subject == "Cheap watches"]
    held, = of_kind(records, HeldRecord)
    _, theirs = await other.receive(tmp_path)
    meeting, = of_kind(theirs, MessageRecord)

    matadi = spamd.learnt("matadi")
    now = int(time.time())
    _, answer = await box.send(tmp_path, [
        (VerdictRecord(watches.id, True, now, "jean"), {}),
        (VerdictRecord(held.id, False, now, "jean"), {}),  # a mistake: bring it, and learn it as ham
        (VerdictRecord(meeting.id, True, now, "jean"), {}),  # another box's mail: ignored
        (VerdictRecord("../../etc/passwd", True, now), {}), (VerdictRecord("99999999", False, now), {}),
    ])
    assert not answer.get("rejected")
    assert spamd.learnt(name) == {"nspam": 1, "nham": 1}
    assert spamd.learnt("matadi") == matadi

    _, records = await box.receive(tmp_path)
    assert [m.id for m in of_kind(records, MessageRecord)] == [held.id]


@pytest.mark.gen_test(timeout=60)
async def test_held_spam_is_cleared_after_the_retention_period_from_its_arrival(relay, tmp_path):
    box = await relay.register("goma")
    await spam_and_ham(relay)
    _, records = await box.receive(tmp_path, ack=False)  # the ham is not acked: it stays
    held, = of_kind(records, HeldRecord)

    cleared = retention.clear_some(relay.engine, relay.settings.retention.keep_days, now=held.until + 1)
    assert cleared == 1

    await box.send(tmp_path, [(RequestRecord(REQUEST_HELD, held.id), {})])  # too late: nothing comes
    _, records = await box.receive(tmp_path)
    assert [m.subject for m in of_kind(records, MessageRecord)] == ["Dinner"]


@pytest.mark.gen_test(timeout=60)
async def test_a_box_requests_only_its_own_held_mail_and_absurd_settings_are_clamped(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    await spam_and_ham(relay)
    _, records = await goma.receive(tmp_path)
    held, = of_kind(records, HeldRecord)

    _, answer = await bukavu.send(tmp_path, [
        (RequestRecord(REQUEST_HELD, held.id), {}), (RequestRecord(REQUEST_HELD, "not a number"), {}),
        (BoxSettingsRecord(500.0, 10**15, {"not an address": 5, "paul@bukavu.relay.test": 10**15}), {}),
    ])
    assert not answer.get("rejected")
    _, records = await goma.receive(tmp_path)
    assert records == []  # still held: bukavu cannot bring goma's mail
    with relay.engine.connect() as db:
        row = db.execute(sa.select(boxes.c.spam_threshold, boxes.c.attachment_limit, boxes.c.user_limits)
                         .where(boxes.c.name == "bukavu")).one()
    assert (row.spam_threshold, row.attachment_limit) == (20.0, 30 * 1024 * 1024)
    assert json.loads(row.user_limits) == {"paul@bukavu.relay.test": 30 * 1024 * 1024}


@pytest.mark.gen_test(timeout=60)
async def test_the_operator_sees_that_spamd_answers_and_what_is_held(relay, tmp_path):
    box = await relay.register("goma")
    await spam_and_ham(relay)
    await box.receive(tmp_path)
    page = (await relay.request("/status", method="GET", auth=(OPERATOR_USER, OPERATOR_PASSWORD))).body.decode()
    assert "spamd answers" in page and "Held as spam: goma 1." in page
    metrics = (await relay.request("/metrics", method="GET", auth=(OPERATOR_USER, OPERATOR_PASSWORD))).body.decode()
    assert "mailpouch_relay_spamd_up 1" in metrics
    assert 'mailpouch_relay_held_messages{box="goma"} 1' in metrics
    assert 'mailpouch_relay_pending_messages{box="goma"} 0' in metrics  # the ham was acked, the spam is held
    with relay.engine.connect() as db:  # `mailpouch-relay mail list`
        assert [quarantine.state(row) for row in quarantine.listing(db)] == ["held as spam"]


@pytest.mark.gen_test(timeout=60)
async def test_the_background_scores_mail_as_it_arrives_once_for_each_box(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    await deliver(relay, [MARIE, "paul@bukavu.relay.test"], subject="You won", body=GTUBE)
    assert scoring.score_some(relay.engine, relay.settings.spam) == 2  # each box has a Bayes of its own
    assert scoring.score_some(relay.engine, relay.settings.spam) == 0

    for box in (goma, bukavu):
        _, records = await box.receive(tmp_path)
        assert [(type(r).__name__, r.subject) for r in records] == [("HeldRecord", "You won")]


@pytest.mark.parametrize("relay_overrides", [{"spam_sync_score_s": 0}], indirect=True)
@pytest.mark.gen_test(timeout=90)
async def test_a_sync_scores_for_a_bounded_time_and_the_rest_comes_scored_at_the_next(relay, tmp_path):
    box = await relay.register("goma")
    for index in range(scoring.BATCH + 1):
        await deliver(relay, MARIE, subject=f"News {index}", body=f"Issue {index} of the newsletter.")

    _, records = await box.receive(tmp_path)  # one batch scored, then the time is up: it waits
    assert len(of_kind(records, MessageRecord)) == scoring.BATCH
    _, records = await box.receive(tmp_path)
    assert [m.subject for m in of_kind(records, MessageRecord)] == [f"News {scoring.BATCH}"]
