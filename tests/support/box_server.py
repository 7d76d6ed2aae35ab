"""Fixture `box_server`: one Tornado HTTP server for the box, in a thread of its own, for the
whole session.  The box's `box_url` fixture mounts a new application on it for each test (its
settings, database, sign-in throttles and sessions are the test's own) and, after the test,
drops the connections the test left open, so no request of one test reaches the next one's box.
"""

import asyncio
import contextlib
import threading

import pytest
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerConnectionDelegate
from tornado.ioloop import IOLoop
from tornado.testing import bind_unused_port

TIMEOUT_S = 10


class BoxServer(HTTPServerConnectionDelegate):
    """Hands every request to the application mounted now (a tornado.web.Application)."""

    def __init__(self):
        self.app = None
        self.url = None
        self._loop = self._server = self._thread = None

    def start_request(self, server_conn, request_conn):
        return self.app.start_request(server_conn, request_conn)

    @contextlib.contextmanager
    def serving(self, app):
        """Serve ``app`` at ``self.url`` until the block ends; then close its connections."""
        self.app = app
        try:
            yield self.url
        finally:
            closing = asyncio.run_coroutine_threadsafe(self._server.close_all_connections(),
                                                       self._loop.asyncio_loop)
            with contextlib.suppress(Exception):
                closing.result(TIMEOUT_S)

    def start(self):
        sock, port = bind_unused_port()
        started = threading.Event()

        def serve():
            asyncio.set_event_loop(asyncio.new_event_loop())
            self._server = HTTPServer(self)
            self._server.add_sockets([sock])
            self._loop = IOLoop.current()
            started.set()
            self._loop.start()
            self._server.stop()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert started.wait(TIMEOUT_S), "the box's server did not start"
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self):
        self._loop.add_callback(self._loop.stop)
        self._thread.join(TIMEOUT_S)


@pytest.fixture(scope="session")
def box_server():
    server = BoxServer().start()
    yield server
    server.stop()
