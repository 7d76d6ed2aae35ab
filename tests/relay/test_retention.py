"""Retention: the relay keeps mail whole until every box has it, then keep_days more, then only
its metadata; mail a box has not acked is never cleared."""

import asyncio
import time

import pytest
import sqlalchemy as sa

from relay import background, boxes, retention
from relay.inbound import preparation
from relay.schema import inbound
from tests.relay.conftest import OPERATOR_PASSWORD, OPERATOR_USER, deliver

DAY_S = retention.DAY_S
KEEP_DAYS = 7  # the default


def kept_whole(relay):
    """Subjects of the inbound messages still whole; the cleared ones must hold no mail at all."""
    with relay.engine.connect() as db:
        rows = db.execute(sa.select(inbound.c.raw, inbound.c.prepared, inbound.c.cleared_at)).all()
    assert all(row.raw == b"" and row.prepared is None for row in rows if row.cleared_at is not None)
    return sorted(_subject(row.raw) for row in rows if row.cleared_at is None)


def _subject(raw):
    return next(line[9:].decode() for line in raw.splitlines() if line.startswith(b"Subject: "))


def clear(relay, days_from_now, keep_days=KEEP_DAYS):
    return retention.clear_some(relay.engine, keep_days, now=time.time() + days_from_now * DAY_S)


@pytest.mark.gen_test(timeout=30)
async def test_acked_mail_is_kept_whole_for_keep_days_then_only_its_metadata(relay, tmp_path):
    box = await relay.register("goma")
    await deliver(relay, "marie@goma.relay.test", subject="read long ago")
    await box.receive(tmp_path)  # downloaded and acked

    assert clear(relay, KEEP_DAYS - 1) == 0
    assert kept_whole(relay) == ["read long ago"]
    assert clear(relay, KEEP_DAYS + 1) == 1
    assert kept_whole(relay) == []
    assert clear(relay, KEEP_DAYS + 1) == 0  # once is enough

    page = (await relay.request("/status", method="GET", auth=(OPERATOR_USER, OPERATOR_PASSWORD))).body.decode()
    assert "Inbound messages stored: 1; kept whole: 0 (0 bytes of raw mail)" in page
    metrics = (await relay.request("/metrics", method="GET", auth=(OPERATOR_USER, OPERATOR_PASSWORD))).body
    assert b"\nmailpouch_relay_kept_messages 0\n" in metrics
    assert b"\nmailpouch_relay_inbound_messages_total 1\n" in metrics  # the counter never goes back


@pytest.mark.gen_test(timeout=30)
async def test_mail_a_box_has_not_acked_is_never_cleared(relay, tmp_path):
    goma, bukavu = await relay.register("goma"), await relay.register("bukavu")
    await deliver(relay, "marie@goma.relay.test", subject="offered, never acked")
    await goma.receive(tmp_path, ack=False)
    await deliver(relay, ["ali@goma.relay.test", "eve@bukavu.relay.test"], subject="for two boxes")
    await bukavu.receive(tmp_path)  # one of its two boxes has it

    assert clear(relay, 365) == 0
    assert kept_whole(relay) == ["for two boxes", "offered, never acked"]

    await goma.receive(tmp_path)  # the box comes back after a year
    assert clear(relay, 366 + KEEP_DAYS) == 2


@pytest.mark.parametrize("relay_overrides", [{"sync_big_message_bytes": 20_000}])
@pytest.mark.gen_test(timeout=30)
async def test_big_mail_is_kept_until_its_attachments_are_acked_too(relay, tmp_path):
    box = await relay.register("goma")
    await deliver(relay, "marie@goma.relay.test", subject="photos",
                  attachments=[("photo.jpg", "image/jpeg", bytes(range(256)) * 200)])
    offers = (await box.sync())["downloads"]
    assert len(offers) == 2  # the record, then the attachment
    await box.sync(received=[offers[0]["name"]])  # the budget ran out after the record

    assert clear(relay, 30) == 0
    await box.sync(received=[offers[1]["name"]])
    assert clear(relay, 30) == 1


@pytest.mark.gen_test(timeout=30)
async def test_mail_for_a_revoked_box_is_cleared_keep_days_after_the_revocation(relay, tmp_path):
    await relay.register("goma")
    await deliver(relay, "marie@goma.relay.test", subject="never fetched")
    boxes.revoke(relay.engine, "goma")

    assert clear(relay, KEEP_DAYS - 1) == 0
    assert clear(relay, KEEP_DAYS + 1) == 1


@pytest.mark.gen_test(timeout=30)
async def test_cleared_mail_is_neither_prepared_again_nor_offered_again(relay, tmp_path):
    box = await relay.register("goma")
    await deliver(relay, "marie@goma.relay.test", subject="acked at once")
    await box.receive(tmp_path)  # packed during the sync, before the background prepared it
    assert clear(relay, 0, keep_days=0) == 1

    assert preparation.prepare_some(relay.engine) == 0
    assert (await box.sync())["downloads"] == []
    await deliver(relay, "marie@goma.relay.test", subject="the next one")
    names, records = await box.receive(tmp_path)
    assert [r.subject for r in records] == ["the next one"]


@pytest.mark.parametrize("relay_overrides", [{"retention_keep_days": 0, "retention_poll_s": 0.05}])
@pytest.mark.gen_test(timeout=30)
async def test_a_serving_relay_clears_acked_mail_by_itself(relay, tmp_path):
    running = await background.start(relay.settings, relay.engine)
    try:
        box = await relay.register("goma")
        await deliver(relay, "marie@goma.relay.test", subject="gone once acked")
        await box.receive(tmp_path)
        deadline = time.monotonic() + 10
        while kept_whole(relay):
            assert time.monotonic() < deadline, kept_whole(relay)
            await asyncio.sleep(0.05)
    finally:
        await running.stop()


@pytest.mark.parametrize("relay_overrides", [{"retention_poll_s": 600}])
@pytest.mark.gen_test(timeout=30)
async def test_a_long_retention_poll_does_not_hold_up_stopping(relay):
    running = await background.start(relay.settings, relay.engine)
    await asyncio.sleep(0.2)  # every loop is idle, waiting for its next poll
    started = time.monotonic()
    await running.stop()
    assert time.monotonic() - started < 3
