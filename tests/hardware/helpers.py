"""Helpers of the hardware tests."""

import asyncio

TEST_SECONDS = 20  # no step of a hardware test may wait longer than this


def run(coroutine):
    """Run a test's coroutine under a deadline, so a hang fails instead of blocking CI."""
    return asyncio.run(asyncio.wait_for(coroutine, TEST_SECONDS))


async def connecting(link, mock):
    """``link.up()`` started and waiting on ModemManager's Connect (the bearer coming up)."""
    from tests.hardware.modemmanager_mock import MODEM_PATH

    up = asyncio.ensure_future(link.up())
    while not await asyncio.to_thread(mock.calls, MODEM_PATH, "Connect"):
        await asyncio.sleep(0.05)
    return up
