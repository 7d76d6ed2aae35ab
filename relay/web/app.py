"""The relay's Tornado application."""

import tornado.web


class HomeHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write(f"Mailpouch relay for *.{self.settings['relay'].relay.domain} is up.\n")


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok"})


def make_app(settings, engine):
    return tornado.web.Application(
        [(r"/", HomeHandler), (r"/healthz", HealthHandler)],
        relay=settings,
        engine=engine,
    )
