"""The relay's Tornado application."""

from pathlib import Path

import tornado.web

from pouch.blobs.web import blob_routes
from relay.boxsync import blobstore
from relay.inbound import signature, store as inbound
from relay.web import transforms
from relay.web.inbound import SendGridInboundHandler
from relay.web.register import RegisterHandler
from relay.web.status import MetricsHandler, StatusHandler
from relay.web.sync import SyncHandler


class HomeHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write(f"Mailpouch relay for *.{self.settings['relay'].relay.domain} is up.\n")


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "ok"})


def make_app(settings, engine, store):
    """The application serving ``settings`` from ``engine`` and blob ``store``."""
    routes = [
        (r"/", HomeHandler),
        (r"/healthz", HealthHandler),
        (r"/api/v1/register", RegisterHandler),
        (r"/api/v1/sync", SyncHandler),
        (r"/inbound/sendgrid", SendGridInboundHandler),
        (r"/status", StatusHandler),
        (r"/metrics", MetricsHandler),
    ]
    if hasattr(store, "signer"):  # the relay signs its URLs and serves them (else Azure SAS URLs)
        routes += blob_routes(store, allowed=blobstore.served_pouch(engine))
    key = settings.inbound.sendgrid_public_key
    return tornado.web.Application(
        routes,
        relay=settings,
        engine=engine,
        blob_store=store,
        inbound=inbound.GroupCommit(engine, settings.inbound.dedupe_days),
        sendgrid_key=signature.load_key(key) if key else None,
        template_path=str(Path(__file__).parent / "templates"),
        transforms=transforms.TRANSFORMS,
    )
