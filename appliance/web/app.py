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
from appliance.web.base import FORM_BYTES, NotFoundHandler
from appliance.web.headers import StaticHandler
from appliance.web.tokens import token_routes
from appliance.web.throttle import SignInThrottle, Throttle, proxy_networks

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


class BoxApplication(tornado.web.Application):
    """Each handler's body limit applies once the headers are in, before any of the body is read:
    an anonymous 95 MB POST to /login is refused after 64 KB, not held in memory."""

    def get_handler_delegate(self, request, target_class, *args, **kwargs):
        limit = getattr(target_class, "body_limit", None)  # the portal's and static files': none
        if request.connection is not None:
            request.connection.set_max_body_size(limit(self.settings["store"]) if limit else FORM_BYTES)
        return super().get_handler_delegate(request, target_class, *args, **kwargs)


def make_app(settings, engine):
    i18n.load()
    store = Store(engine, settings.box.data_dir, settings.box.domain)
    return BoxApplication(
        routes(),
        default_handler_class=NotFoundHandler,
        template_path=str(TEMPLATES),
        autoescape="escape_text",
        static_path=str(STATIC),
        static_handler_class=StaticHandler,
        cookie_secret=cookie_secret(settings),
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        login_url="/login",
        box=settings,
        engine=engine,
        store=store,
        trusted_proxies=proxy_networks(settings.web.trusted_proxies),
        login_throttle=SignInThrottle(),
        signup_throttle=Throttle(free=3),  # accounts one client may make before waiting
        compress_response=True,
    )
