"""Fixture `flaky_proxy`: a real TCP proxy on loopback that behaves like a bad link.

It forwards between clients and one target, can throttle to a bit rate (one
link: the rate is shared by all connections, each direction on its own), cuts
connections after planned numbers of bytes or at random points, and counts
the bytes it carried each way.  It runs its own asyncio loop in a thread, so
it serves tests whatever loop (or none) they run::

    proxy = flaky_proxy(host, port, rate_bps=256_000)
    proxy.cut_randomly(20, between=(20_000, 80_000), seed=7)
    ... talk to proxy.url(original_url) ...
    proxy.bytes_up, proxy.bytes_down, proxy.connections, proxy.cuts
"""

import asyncio
import random
import threading
import urllib.parse

import pytest

UP = "up"  # client -> target
DOWN = "down"  # target -> client
BOTH = "both"
UNTHROTTLED_READ = 64 * 1024
THROTTLED_READ = 1024  # small steps keep a throttled stream smooth
START_TIMEOUT_S = 10


class FlakyProxy:
    def __init__(self, target_host, target_port, rate_bps=None, host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.host = host
        self.port = None
        self.rate_bps = rate_bps  # None: as fast as loopback goes; may change at any time
        self._lock = threading.Lock()
        self._gaps = []  # bytes to carry before each planned cut, in order
        self._cut_direction = BOTH
        self._until_cut = None
        self._down_after_cuts = False
        self.down = False  # new connections are dropped at once, as by a modem that lost its carrier
        self._links = set()
        self._pacers = {UP: _Pacer(self), DOWN: _Pacer(self)}
        self.reset_counts()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"flaky-proxy-{target_port}")
        self._server = None

    # -- control (from any thread) ----------------------------------------------

    def start(self):
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._serve, self.host, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self):
        if self._server is not None:
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_S)
        self._loop.close()

    def url(self, url):
        """``url`` with its host and port replaced by the proxy's."""
        return urllib.parse.urlsplit(url)._replace(netloc=f"{self.host}:{self.port}").geturl()

    def cut_after(self, *byte_counts, direction=BOTH, then_down=False):
        """Plan cuts: the first after ``byte_counts[0]`` more bytes in ``direction``,
        the next ``byte_counts[1]`` bytes later, and so on; replaces earlier plans.
        ``then_down``: after the last cut the link stays down, dropping every new
        connection at once, until ``come_up``."""
        with self._lock:
            self._cut_direction = direction
            self._gaps = list(byte_counts)
            self._until_cut = self._gaps.pop(0) if self._gaps else None
            self._down_after_cuts = then_down
            self.down = False

    def go_down(self):
        """Drop every open connection and refuse new ones, until ``come_up``."""
        with self._lock:
            self.down = True
        self.cut_now()

    def come_up(self):
        with self._lock:
            self.down = False

    def cut_randomly(self, count, between, seed=None, direction=BOTH):
        """Plan ``count`` cuts, each after a random number of bytes in ``between``."""
        rng = random.Random(seed)
        self.cut_after(*(rng.randint(*between) for _ in range(count)), direction=direction)

    def cut_now(self):
        """Drop every open connection at once."""
        self._loop.call_soon_threadsafe(self._cut_all)

    @property
    def planned_cuts(self):
        with self._lock:
            return len(self._gaps) + (self._until_cut is not None)

    @property
    def open_links(self):
        """Connections still open through the proxy (one closing may still carry its TLS alert)."""
        return len(self._links)

    def reset_counts(self):
        with self._lock:
            self.bytes_up = self.bytes_down = 0
            self.connections = 0
            self.cuts = 0

    # -- the proxy (in its own thread) --------------------------------------------

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(START_TIMEOUT_S)

    async def _serve(self, client_reader, client_writer):
        if self.down:
            client_writer.transport.abort()
            return
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        link = _Link(client_writer, target_writer, asyncio.current_task())
        self._links.add(link)
        with self._lock:
            self.connections += 1
        try:
            await asyncio.gather(self._pump(client_reader, target_writer, UP, link),
                                 self._pump(target_reader, client_writer, DOWN, link))
        finally:
            self._links.discard(link)
            link.close()

    async def _pump(self, reader, writer, direction, link):
        try:
            while not link.cut:
                data = await reader.read(THROTTLED_READ if self.rate_bps else UNTHROTTLED_READ)
                if not data:
                    if writer.can_write_eof() and not writer.is_closing():
                        writer.write_eof()  # pass the half-close on
                    return
                data, cut = self._take(direction, data)
                await self._pacers[direction].wait(len(data))
                if link.cut:
                    return
                writer.write(data)
                self._count(direction, len(data))
                await writer.drain()
                if cut:
                    link.abort()
                    with self._lock:
                        self.cuts += 1
        except (ConnectionError, OSError):
            link.abort()

    def _take(self, direction, data):
        """(the part of ``data`` to forward, whether to cut after it)."""
        with self._lock:
            counted = self._cut_direction in (BOTH, direction)
            if not counted or self._until_cut is None or len(data) < self._until_cut:
                if counted and self._until_cut is not None:
                    self._until_cut -= len(data)
                return data, False
            data = data[:self._until_cut]
            self._until_cut = self._gaps.pop(0) if self._gaps else None
            self.down = self._until_cut is None and self._down_after_cuts
            return data, True

    def _count(self, direction, size):
        with self._lock:
            if direction == UP:
                self.bytes_up += size
            else:
                self.bytes_down += size

    def _cut_all(self):
        for link in list(self._links):
            link.abort()

    async def _shutdown(self):
        self._server.close()
        tasks = [link.task for link in self._links]
        self._cut_all()
        if tasks:
            await asyncio.wait(tasks, timeout=START_TIMEOUT_S)
        await self._server.wait_closed()


class _Link:
    """Both sockets of one proxied connection."""

    def __init__(self, client_writer, target_writer, task):
        self.writers = (client_writer, target_writer)
        self.task = task  # the one serving the connection
        self.cut = False

    def abort(self):
        """Drop both sides at once, as a lost link does: no orderly close."""
        self.cut = True
        for writer in self.writers:
            writer.transport.abort()

    def close(self):
        for writer in self.writers:
            writer.close()


class _Pacer:
    """Spaces writes in one direction so they average the proxy's bit rate."""

    def __init__(self, proxy):
        self.proxy = proxy
        self._free_at = 0.0

    async def wait(self, size):
        rate = self.proxy.rate_bps
        if not rate:
            return
        now = asyncio.get_running_loop().time()
        self._free_at = max(now, self._free_at) + size * 8 / rate
        await asyncio.sleep(self._free_at - now)


@pytest.fixture
def flaky_proxy():
    """A factory: ``flaky_proxy(host, port, rate_bps=None)`` starts a proxy to host:port;
    all are stopped when the test ends."""
    proxies = []

    def start(target_host, target_port, rate_bps=None):
        proxies.append(FlakyProxy(target_host, target_port, rate_bps).start())
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.stop()
