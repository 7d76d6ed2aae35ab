"""One message that cannot be built or sent fails alone, with a reason its sender reads on the
box; the messages beside it leave, and the sender keeps going."""

import logging

import pytest

from pouch.records import STATUS_FAILED, STATUS_SENT
from relay.outbound.transports import sendgrid as sendgrid_transport
from tests.relay.test_outbound_sendgrid import outgoing, relay_overrides, statuses  # noqa: F401 (fixture)

GOOD = [f"Good {n}" for n in range(5)]


def good_ones():
    return [outgoing(f"g-{n}", f"friend{n}@example.com", subject=subject) for n, subject in enumerate(GOOD)]


@pytest.mark.gen_test(timeout=60)
async def test_a_message_missing_its_attachment_fails_beside_good_ones(relay, sendgrid_standin, tmp_path):
    goma = await relay.register("goma")
    broken, _ = outgoing("b-1", "friend@example.com", subject="Broken",
                         attachments=[("lost.pdf", "application/pdf", b"%PDF lost")])
    await goma.send(tmp_path, [*good_ones()[:2], (broken, {}), *good_ones()[2:]])  # the pouch lacks its blob
    await relay.send_all()
    assert sorted(body["subject"] for body in sendgrid_standin.accepted) == GOOD  # never without its attachment
    _, records = await goma.receive(tmp_path)
    fates = statuses(records)
    assert {fates[f"g-{n}"][0] for n in range(5)} == {STATUS_SENT}
    state, reason = fates["b-1"]
    assert state == STATUS_FAILED and "lost.pdf" in reason and "missing" in reason


@pytest.mark.gen_test(timeout=60)
async def test_a_bug_building_one_message_fails_it_alone(relay, sendgrid_standin, tmp_path, monkeypatch, caplog):
    build_headers = sendgrid_transport.headers

    def headers(record):  # a bug that only this message's content sets off
        if record.subject == "Cursed":
            raise RuntimeError("no such thing as a cursed subject")
        return build_headers(record)

    monkeypatch.setattr(sendgrid_transport, "headers", headers)
    goma = await relay.register("goma")
    await goma.send(tmp_path, [*good_ones()[:3], outgoing("c-1", "friend@example.com", subject="Cursed"),
                               *good_ones()[3:]])
    with caplog.at_level(logging.ERROR, logger="relay.outbound.worker"):
        await relay.send_all()
    assert sorted(body["subject"] for body in sendgrid_standin.accepted) == GOOD
    _, records = await goma.receive(tmp_path)
    state, reason = statuses(records)["c-1"]
    assert state == STATUS_FAILED
    assert "error of its own" in reason and "RuntimeError: no such thing as a cursed subject" in reason
    [logged] = [r for r in caplog.records if r.exc_info]  # the operator gets the traceback
    assert "record='c-1'" in logged.getMessage()
