"""An account with thousands of messages syncs its last 30 days without the relay's memory
growing with the mailbox: the peak for 5,000 messages is that for 500."""

import time
import tracemalloc

import pytest

from tests.relay.accounts_support import (PASSWORD, account_record, accounts_running, database_url, message,
                                          queued_count, queued_subjects, relay_overrides, settings_for, until, upload)

__all__ = ["database_url", "relay_overrides"]  # fixtures, imported by name

RECENT = 200  # messages of the last 30 days, in both mailboxes
BODY = "A line of an ordinary message, as people write them. " * 30  # ~1.6 KB


def seed(dovecot, user, total):
    dovecot.add_user(user, PASSWORD)
    recent = [message(f"{user} recent {n}", days_ago=n * 25 / RECENT, body=BODY) for n in range(RECENT)]
    old = [message(f"{user} old {n}", days_ago=40 + n % 700, body=BODY) for n in range(total - RECENT)]
    dovecot.seed(user, recent + old)


async def sync_measured(relay, box, tmp_path, dovecot, user, account_id):
    """(peak bytes traced above what was held before, seconds) of syncing ``user``'s account until
    its recent mail is queued."""
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot, user=user), account_id=account_id,
                                               address=user))
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]
    started = time.monotonic()
    async with accounts_running(relay):
        await until(lambda: queued_count(relay, account_id) == RECENT, f"{user}'s recent mail queued", timeout_s=60)
        seconds = time.monotonic() - started
    return tracemalloc.get_traced_memory()[1] - held, seconds


@pytest.mark.gen_test(timeout=180)
async def test_syncing_the_last_30_days_takes_the_same_memory_for_500_or_5000_messages(relay, dovecot, tmp_path):
    seed(dovecot, "small@example.org", 500)
    seed(dovecot, "big@example.org", 5_000)
    box = await relay.register("goma")
    tracemalloc.start()
    try:
        small_peak, small_s = await sync_measured(relay, box, tmp_path, dovecot, "small@example.org", "small")
        big_peak, big_s = await sync_measured(relay, box, tmp_path, dovecot, "big@example.org", "big")
    finally:
        tracemalloc.stop()
    print(f"\n500 messages: peak {small_peak / 1e6:.2f} MB, {RECENT / small_s:.0f} messages/s; "
          f"5,000 messages: peak {big_peak / 1e6:.2f} MB, {RECENT / big_s:.0f} messages/s")
    subjects = queued_subjects(relay)
    assert len(subjects) == 2 * RECENT and not any(" old " in subject for subject in subjects)
    assert big_peak < small_peak * 1.2 + 512 * 1024
