"""Slowing down repeated failed sign-ins, per address and per client."""

import time

FREE_TRIES = 3
MAX_WAIT = 300  # seconds


class LoginThrottle:
    """After FREE_TRIES failures, each further try must wait twice as long as the last."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.failures = {}  # key -> (count, time of the last failure)

    def wait_left(self, *keys):
        """Seconds before these keys may try again (0 when they may now)."""
        now = self.clock()
        return max((self._wait(key, now) for key in keys), default=0)

    def failed(self, *keys):
        now = self.clock()
        self._forget_old(now)
        for key in keys:
            count, _ = self.failures.get(key, (0, now))
            self.failures[key] = (count + 1, now)

    def succeeded(self, *keys):
        for key in keys:
            self.failures.pop(key, None)

    def _wait(self, key, now):
        count, last = self.failures.get(key, (0, now))
        if count < FREE_TRIES:
            return 0
        delay = min(MAX_WAIT, 2 ** (count - FREE_TRIES + 1))
        return max(0, int(last + delay - now + 0.999))

    def _forget_old(self, now):
        if len(self.failures) > 10000:
            self.failures = {k: v for k, v in self.failures.items() if now - v[1] < MAX_WAIT}
