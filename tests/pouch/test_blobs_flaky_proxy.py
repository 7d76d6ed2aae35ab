"""The flaky link proxy itself: it counts, cuts and throttles as it says."""

import socket
import socketserver
import threading
import time

import pytest

SOCKET_TIMEOUT_S = 10


class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        received = 0
        try:
            while data := self.request.recv(65536):
                received += len(data)
                self.request.sendall(data)
        except ConnectionError:
            pass  # the proxy cut the connection
        finally:
            self.server.received.append(received)


@pytest.fixture
def echo_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def exchange(proxy, payload):
    """Send ``payload`` through the proxy; the bytes echoed back before it closes."""
    with socket.create_connection((proxy.host, proxy.port), timeout=SOCKET_TIMEOUT_S) as sock:
        sender = threading.Thread(target=_send_all, args=(sock, payload))
        sender.start()
        echoed = b""
        try:
            while len(echoed) < len(payload) and (data := sock.recv(65536)):
                echoed += data
        except ConnectionResetError:
            pass
        sender.join(SOCKET_TIMEOUT_S)
    return echoed


def _send_all(sock, payload):
    try:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # cut off


def wait_for(condition, timeout_s=SOCKET_TIMEOUT_S):
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_counts_bytes_each_way(flaky_proxy, echo_server):
    proxy = flaky_proxy(*echo_server.server_address)
    payload = bytes(range(256)) * 400
    assert exchange(proxy, payload) == payload
    assert wait_for(lambda: proxy.bytes_down == len(payload))
    assert (proxy.bytes_up, proxy.connections, proxy.cuts) == (len(payload), 1, 0)


def test_cuts_after_the_planned_bytes_then_carries_on(flaky_proxy, echo_server):
    proxy = flaky_proxy(*echo_server.server_address)
    proxy.cut_after(40_000, direction="up")
    payload = b"x" * 100_000

    echoed = exchange(proxy, payload)
    assert wait_for(lambda: len(echo_server.received) == 1)
    assert echo_server.received == [40_000]  # the target saw exactly the planned bytes
    assert len(echoed) <= 40_000
    assert (proxy.bytes_up, proxy.cuts, proxy.planned_cuts) == (40_000, 1, 0)
    assert exchange(proxy, payload) == payload  # the next connection is whole


def test_random_cuts_are_reproducible(flaky_proxy, echo_server):
    cut_points = []
    for _ in range(2):
        proxy = flaky_proxy(*echo_server.server_address)
        proxy.cut_randomly(3, between=(1_000, 20_000), seed=42, direction="up")
        carried = []
        for _ in range(3):
            exchange(proxy, b"y" * 30_000)
            assert wait_for(lambda: proxy.cuts == len(carried) + 1)
            carried.append(proxy.bytes_up - sum(carried))
        cut_points.append(carried)
    assert cut_points[0] == cut_points[1]
    assert all(1_000 <= point <= 20_000 for point in cut_points[0])


def test_throttles_to_the_bit_rate(flaky_proxy, echo_server):
    # A lower bound only: 32 kB each way at 256 kbit/s cannot take under a second.
    proxy = flaky_proxy(*echo_server.server_address, rate_bps=256_000)
    payload = b"z" * 32_000
    started = time.monotonic()
    assert exchange(proxy, payload) == payload
    assert time.monotonic() - started >= 0.95
