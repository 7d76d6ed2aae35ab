"""Helpers of the hardware tests."""

import asyncio

TEST_SECONDS = 20  # no step of a hardware test may wait longer than this


def run(coroutine):
    """Run a test's coroutine under a deadline, so a hang fails instead of blocking CI."""
    return asyncio.run(asyncio.wait_for(coroutine, TEST_SECONDS))
