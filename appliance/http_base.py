"""What every handler of the box's two front doors (web pages, API) shares: the dependencies the
composition root (appliance.server) gives each route, one read connection per request, and the
security headers.  appliance.web and appliance.api build on this and never on each other."""

import tornado.web
from tornado.routing import Matcher

from appliance import http_headers
from pouch import limits

FORM_BYTES = 64 * 1024  # a request body's limit unless a handler needs more (server.BoxApplication)
# A body declared up to this is read and dropped before the 413: a client that sends all of it
# before it reads (Python's requests, a phone's browser) would otherwise meet a reset connection.
DRAINED_MOST = limits.MAX_MESSAGE_BYTES


def mounted(table, deps):
    """Tornado's (pattern, handler, kwargs) rows: every handler gets ``deps``, plus its own kwargs."""
    return [(row[0], row[1], {**deps, **(row[2] if len(row) > 2 else {})}) for row in table]


class BoxHandler(tornado.web.RequestHandler):
    """``initialize`` keeps the route's dependencies as attributes: ``self.store``, ``self.config``
    (the box's settings), and what else the root built (see server.dependencies)."""

    _db = None

    def initialize(self, **deps):
        for name, value in deps.items():
            if hasattr(tornado.web.RequestHandler, name):  # a dep named "settings" would hide Tornado's
                raise TypeError(f"a handler's dependency may not be named {name!r}")
            setattr(self, name, value)

    @classmethod
    def body_limit(cls, store):
        """The most a request body to this handler may hold; checked before it is read."""
        return FORM_BYTES

    @property
    def db(self):
        """One connection for all the reads of this request (writes use ``store.write()``)."""
        if self._db is None:
            self._db = self.store.read()
        return self._db

    def on_finish(self):
        if self._db is not None:
            self._db.close()

    def set_default_headers(self):
        http_headers.apply(self)
        self.set_header("Cache-Control", "no-store")


class OverLimit(Matcher):
    """A request whose Content-Length is over the body limit of the handler its path leads to
    (``rows``: (matcher, handler); none takes less than ``smallest``), for an OverLimitRefusal
    handler to refuse before the body is read."""

    def __init__(self, rows, store, smallest):
        self.rows, self.store, self.smallest = rows, store, smallest

    def match(self, request):
        declared = limits.whole_number(request.headers.get("Content-Length", ""))
        if declared is None or declared <= self.smallest:
            return None
        for matcher, handler in self.rows:
            if matcher.match(request) is not None:
                limit = handler.body_limit(self.store)
                if declared <= limit:
                    return None
                return {"path_args": [], "path_kwargs": {
                    "limit": str(limit), "files": "yes" if getattr(handler, "UPLOADS", False) else ""}}
        return None


class OverLimitRefusal:
    """Mixed into the ``@tornado.web.stream_request_body`` handler OverLimit leads to, before the
    door's own handler class: every method answers ``refuse()``, the body dropped as it comes
    (never kept), or not read at all past DRAINED_MOST."""

    def prepare(self):
        self.limit = int(self.path_kwargs["limit"])
        self.declared = int(self.request.headers["Content-Length"])  # OverLimit read it as digits
        if self.declared > DRAINED_MOST:
            self.refuse()
        self.request.connection.set_max_body_size(self.declared)

    def data_received(self, chunk):
        pass  # dropped

    def _refused(self, *args, **kwargs):
        self.refuse()

    get = head = post = put = patch = delete = options = _refused

    def write_error(self, status_code, **kwargs):
        self.set_header("Connection", "close")  # a body unread past DRAINED_MOST ends this connection
        super().write_error(status_code, **kwargs)
