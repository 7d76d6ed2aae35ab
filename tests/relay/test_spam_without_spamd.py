"""A relay whose spamd is missing keeps working: it holds what SendGrid scored (spam_score)
at the box's threshold, lets the rest down unscored, and says so on its status page."""

import json

import pytest
import sqlalchemy as sa
import yaml

from pouch.records import BoxSettingsRecord, HeldRecord, MessageRecord, VerdictRecord
from relay.schema import outbound
from relay.spam import local
from tests.relay.accounts_support import database_url  # noqa: F401 (fixture: SQLite)
from tests.relay.conftest import OPERATOR_PASSWORD, OPERATOR_USER, ROOT_DIR, email_bytes
from tests.relay.test_spam import MARIE, of_kind


@pytest.fixture
def relay_overrides():
    return {"spam_enabled": True, "spam_port": local.free_port(), "spam_timeout_s": 2}  # nothing listens there


async def scored(relay, subject, spam_score=None):
    """Post a message as SendGrid does, with its spam check's score when given."""
    fields = {"email": email_bytes(MARIE, subject=subject), "envelope": json.dumps({"to": [MARIE]})}
    if spam_score is not None:
        fields["spam_score"] = spam_score
    response = await relay.webhook(fields)
    assert response.code == 200, response.body


@pytest.mark.gen_test(timeout=60)
async def test_sendgrids_score_alone_holds_at_the_boxs_threshold(relay, tmp_path):
    box = await relay.register("goma")
    for subject, score in [("Pills", "12.5"), ("Maybe", "7"), ("Lunch", "0.3"), ("Unscored", None),
                           ("Garbage score", "lots")]:
        await scored(relay, subject, score)

    _, records = await box.receive(tmp_path)
    assert sorted(m.subject for m in of_kind(records, MessageRecord)) == ["Garbage score", "Lunch", "Unscored"]
    assert sorted((h.subject, h.score) for h in of_kind(records, HeldRecord)) == [("Maybe", 7.0), ("Pills", 12.5)]

    # The admin raises the threshold; a verdict spamd cannot learn now changes nothing else.
    outgoing = MessageRecord(id="out-1", from_=[("", MARIE)], to=[("", "friend@example.org")], subject="Hi",
                             body="Hello.")
    _, answer = await box.send(tmp_path, [(BoxSettingsRecord(10.0, 200_000), {}),
                                          (VerdictRecord("1", True, 1_790_000_000), {}), (outgoing, {})])
    assert not answer.get("rejected")
    with relay.engine.connect() as db:
        assert db.execute(sa.select(outbound.c.record_id)).scalars().all() == ["out-1"]  # taken beside them

    await scored(relay, "More pills", "12.5")
    await scored(relay, "Not so sure", "7")
    _, records = await box.receive(tmp_path)
    assert [m.subject for m in of_kind(records, MessageRecord)] == ["Not so sure"]
    assert [h.subject for h in of_kind(records, HeldRecord)] == ["More pills"]


@pytest.mark.gen_test(timeout=60)
async def test_the_status_page_and_metrics_say_spamd_is_missing(relay):
    page = (await relay.request("/status", method="GET", auth=(OPERATOR_USER, OPERATOR_PASSWORD))).body.decode()
    assert "spamd is missing" in page and "only mail SendGrid scored (spam_score) is scored" in page
    metrics = (await relay.request("/metrics", method="GET", auth=(OPERATOR_USER, OPERATOR_PASSWORD))).body.decode()
    assert "mailpouch_relay_spamd_up 0" in metrics
    rules = yaml.safe_load((ROOT_DIR / "docs" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert any(rule["expr"] == "mailpouch_relay_spamd_up == 0" for rule in rules)  # and the operator is told
