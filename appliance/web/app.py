"""The box's Tornado application."""

import secrets
from pathlib import Path

import tornado.web

from appliance import __doc__ as ABOUT

TEMPLATES = Path(__file__).resolve().parent / "templates"


class HomeHandler(tornado.web.RequestHandler):
    def get(self):
        self.render("home.html", domain=self.settings["box"].box.domain, about=ABOUT)


def cookie_secret(settings):
    """The configured secret, else one made on first start and kept in data_dir."""
    if settings.web.cookie_secret:
        return settings.web.cookie_secret
    path = Path(settings.box.data_dir) / "cookie_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def make_app(settings, engine):
    return tornado.web.Application(
        [(r"/", HomeHandler)],
        template_path=str(TEMPLATES),
        cookie_secret=cookie_secret(settings),
        xsrf_cookies=True,
        box=settings,
        engine=engine,
    )
