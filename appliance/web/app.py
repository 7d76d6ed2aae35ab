"""The box's Tornado application: the web mail client."""

import secrets
from pathlib import Path

import tornado.web

from appliance import i18n, portal
from appliance.api.routes import api_routes
from appliance.store import Store
from appliance.web import accounts, admin, compose, files, mail, search
from appliance.web.modem_admin import modem_routes
from appliance.web.other_addresses import address_routes
from appliance.web.sync_admin import sync_routes
from appliance.web.tokens import token_routes
from appliance.web.throttle import LoginThrottle

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


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


def routes():
    # Phones' connectivity checks first: on the box's Wi-Fi they open the mail client.
    return portal.routes() + [
        (r"/", mail.FolderHandler),
        (r"/folder/(\w+)", mail.FolderHandler),
        (r"/thread/(\d{1,18})", mail.ThreadHandler),
        (r"/message/(\d{1,18})/(\w+)", mail.MessageActionHandler),
        (r"/message/(\d{1,18})/cid/(.+)", files.InlineImageHandler),
        (r"/attachment/(\d{1,18})", files.AttachmentHandler),
        (r"/compose", compose.ComposeHandler),
        (r"/search", search.SearchHandler),
        (r"/signup", accounts.SignUpHandler),
        (r"/login", accounts.SignInHandler),
        (r"/logout", accounts.SignOutHandler),
        (r"/language", accounts.LanguageHandler),
        (r"/settings", accounts.SettingsHandler),
        (r"/admin/users", admin.UsersHandler),
        (r"/admin/box", admin.BoxHandler),
    ] + token_routes() + address_routes() + modem_routes() + sync_routes() + api_routes()  # the API's JSON 404 for /api/* comes last


def make_app(settings, engine):
    i18n.load()
    store = Store(engine, settings.box.data_dir, settings.box.domain)
    return tornado.web.Application(
        routes(),
        template_path=str(TEMPLATES),
        static_path=str(STATIC),
        cookie_secret=cookie_secret(settings),
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        login_url="/login",
        box=settings,
        engine=engine,
        store=store,
        login_throttle=LoginThrottle(),
        compress_response=True,
    )
