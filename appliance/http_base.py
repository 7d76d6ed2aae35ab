"""What every handler of the box's two front doors (web pages, API) shares: the dependencies the
composition root (appliance.server) gives each route, one read connection per request, and the
security headers.  appliance.web and appliance.api build on this and never on each other."""

import tornado.web

from appliance import http_headers

FORM_BYTES = 64 * 1024  # a request body's limit unless a handler needs more (server.BoxApplication)


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
