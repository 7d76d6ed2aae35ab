"""Slowing down repeated sign-in failures and sign-ups, per client and per (client, account).

An account is never throttled on its own: a stranger's wrong passwords for someone's address
slow down only the stranger's device, and its owner still signs in from theirs.
"""

import contextlib
import ipaddress
import time
import types

MAX_WAIT = 300  # seconds
FORGET_AFTER = 3600  # a quiet hour wipes a key's record
MAX_KEYS = 10000


class Throttle:
    """After ``free`` counted events, each further try must wait twice as long as the last."""

    def __init__(self, free, clock=time.monotonic):
        self.free = free
        self.clock = clock
        self.events = {}  # key -> (count, time of the last one)

    def wait_left(self, *keys):
        """Seconds before these keys may try again (0 when they may now)."""
        now = self.clock()
        return max((self._wait(key, now) for key in keys), default=0)

    def count(self, *keys):
        now = self.clock()
        self._forget_old(now)
        for key in keys:
            count, _ = self._current(key, now)
            self.events[key] = (count + 1, now)

    def forget(self, *keys):
        for key in keys:
            self.events.pop(key, None)

    def _current(self, key, now):
        count, last = self.events.get(key, (0, now))
        return (0, now) if now - last >= FORGET_AFTER else (count, last)

    def _wait(self, key, now):
        count, last = self._current(key, now)
        if count < self.free:
            return 0
        delay = min(MAX_WAIT, 2 ** (count - self.free + 1))
        return max(0, int(last + delay - now + 0.999))

    def _forget_old(self, now):
        if len(self.events) > MAX_KEYS:
            self.events = {k: v for k, v in self.events.items() if now - v[1] < MAX_WAIT}


class SignInThrottle:
    """Three free failures per account from one client; more per client across accounts.

    One try at a time per (client, account): guesses sent in parallel are refused until the
    one before is answered, so they cannot outrun the count."""

    ACCOUNT_FREE, CLIENT_FREE = 3, 10

    def __init__(self, clock=time.monotonic):
        self.by_account = Throttle(self.ACCOUNT_FREE, clock)
        self.by_client = Throttle(self.CLIENT_FREE, clock)
        self.trying = set()

    def wait_left(self, client, account):
        if (client, account) in self.trying:
            return 1
        return max(self.by_account.wait_left((client, account)), self.by_client.wait_left(client))

    @contextlib.contextmanager
    def attempt(self, client, account):
        """``with throttle.attempt(c, a) as result: result.right = ...``; anything else is a failure."""
        key, result = (client, account), types.SimpleNamespace(right=False)
        self.trying.add(key)
        try:
            yield result
        finally:
            self.trying.discard(key)
            if result.right:
                self.by_account.forget(key)
            else:
                self.by_account.count(key)
                self.by_client.count(client)


def client_key(address):
    """One key per device: an IPv6 client may pick any address in its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def client_address(request, trusted_proxies):
    """The client's address; proxy headers count only from a trusted proxy.

    X-Forwarded-For is read right to left, skipping the trusted proxies' own hops, so a
    client cannot name itself by prepending addresses."""
    peer = request.remote_ip
    if not _trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _valid(hop):
            break
        if not _trusted(hop, trusted_proxies):
            return hop
    real = request.headers.get("X-Real-IP", "").strip()
    return real if _valid(real) else peer


def _valid(address):
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _trusted(address, networks):
    if not networks or not _valid(address):
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def proxy_networks(entries):
    """``[web] trusted_proxies`` (addresses or networks) as ip_network objects."""
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ValueError(f"[web] trusted_proxies: {error}") from None
