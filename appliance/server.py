"""The box's Tornado application, composed in one place: settings -> the store, throttles and
the sync scheduler's slot -> the web client's and the API's route tables -> one Application.
appliance.web and appliance.api each give ``routes(deps)``; neither knows the other."""

import tornado.web

from appliance import i18n
from appliance.api import routes as api_routes
from appliance.http_base import FORM_BYTES
from appliance.http_headers import StaticHandler
from appliance.store import Store
from appliance.web import app as web
from appliance.web.base import NotFoundHandler
from appliance.web.throttle import SignInThrottle, Throttle, proxy_networks


class Running:
    """What the serve process starts once the loop runs (the sync scheduler); None until then."""

    scheduler = None


def dependencies(settings, engine):
    """What handlers are given, as ``initialize`` keyword arguments (see http_base.BoxHandler)."""
    return {
        "config": settings,
        "store": Store(engine, settings.box.data_dir, settings.box.domain),
        "trusted_proxies": proxy_networks(settings.web.trusted_proxies),
        "login_throttle": SignInThrottle(),
        "signup_throttle": Throttle(free=3),  # accounts one client may make before waiting
        "running": Running(),
    }


class BoxApplication(tornado.web.Application):
    """Each handler's body limit applies once the headers are in, before any of the body is read:
    an anonymous 95 MB POST to /login is refused after 64 KB, not held in memory."""

    def __init__(self, deps, *args, **kwargs):
        self.deps = deps
        super().__init__(*args, **kwargs)

    def get_handler_delegate(self, request, target_class, *args, **kwargs):
        limit = getattr(target_class, "body_limit", None)  # the portal's and static files': none
        if request.connection is not None:
            request.connection.set_max_body_size(limit(self.deps["store"]) if limit else FORM_BYTES)
        return super().get_handler_delegate(request, target_class, *args, **kwargs)


def make_app(settings, engine):
    i18n.load()
    deps = dependencies(settings, engine)
    return BoxApplication(
        deps,
        web.routes(deps) + api_routes.routes(deps),  # the API's JSON 404 for /api/* comes last
        default_handler_class=NotFoundHandler,
        default_handler_args=deps,
        template_path=str(web.TEMPLATES),
        autoescape="escape_text",
        static_path=str(web.STATIC),
        static_handler_class=StaticHandler,
        cookie_secret=web.cookie_secret(settings),
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        login_url="/login",
        compress_response=True,
    )
