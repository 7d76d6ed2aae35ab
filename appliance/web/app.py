"""The web mail client's part of the box's application: its route table, templates, static
files and cookie secret (appliance.server mounts them with the API's)."""

import secrets
from pathlib import Path

from tornado.routing import PathMatches

from appliance.http_base import FORM_BYTES, OverLimit, mounted
from appliance.web import accounts, admin, admin_downloads, admin_home, compose, files, mail, own_limit, portal, search
from appliance.web.base import TooLongHandler
from appliance.web.held import held_routes
from appliance.web.modem_admin import modem_routes
from appliance.web.other_addresses import address_routes
from appliance.web.placeholders import placeholder_routes
from appliance.web.sync_admin import sync_routes
from appliance.web.tokens import token_routes

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


def routes(deps):
    """(pattern, handler, kwargs) rows, each handler given ``deps`` (see server.dependencies)."""
    # Phones' connectivity checks first: on the box's Wi-Fi they open the mail client.
    pages = mounted([
        (r"/", mail.FolderHandler),
        *held_routes(),  # /folder/held first: the next row would take it for a folder of mail
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
        (r"/settings/downloads", own_limit.OwnLimitHandler),
        (r"/admin", admin_home.AdminHomeHandler),
        (r"/admin/users", admin.UsersHandler),
        (r"/admin/box", admin.BoxHandler),
        (r"/admin/downloads", admin_downloads.DownloadsHandler),
    ] + token_routes() + address_routes() + modem_routes() + sync_routes() + placeholder_routes(), deps)
    too_long = OverLimit([(PathMatches(pattern), handler) for pattern, handler, _ in pages], deps["store"],
                         smallest=FORM_BYTES)
    return portal.routes() + [(too_long, TooLongHandler, deps)] + pages
