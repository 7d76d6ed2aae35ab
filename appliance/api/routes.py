"""The API's URL table, to mount on the box's application (appliance.server) after the web's.

Every path takes a trailing slash too (the Nylas SDKs add one).  The table is mounted twice:
under /api, and at the root for requests that carry a token (Bearer, or Basic with the token
as user): the Nylas SDKs build their write URLs from the server's host alone, dropping /api.
The web client's paths never carry a token and never collide with the API's."""

from tornado.routing import PathMatches

from appliance.api import auth, delta, drafts, mail, openapi, resources
from appliance.api.base import MAX_JSON, NotFoundHandler, TooLargeHandler
from appliance.http_base import OverLimit, mounted

ID = r"([^/]{1,40})"


def table():
    return [
        (r"/account", resources.AccountHandler),
        (r"/threads", mail.ThreadListHandler),
        (r"/threads/search", mail.ThreadSearchHandler),
        (rf"/threads/{ID}", mail.ThreadHandler),
        (r"/messages", mail.MessageListHandler),
        (r"/messages/search", mail.MessageSearchHandler),
        (rf"/messages/{ID}", mail.MessageHandler),
        (r"/drafts", drafts.DraftListHandler),
        (rf"/drafts/{ID}", drafts.DraftHandler),
        (r"/send", drafts.SendHandler),
        (r"/folders", resources.FolderListHandler),
        (rf"/folders/{ID}", resources.FolderHandler),
        (r"/labels", resources.LabelListHandler),
        (r"/contacts", resources.ContactListHandler),
        (rf"/contacts/{ID}", resources.ContactHandler),
        (r"/files", resources.FileListHandler),
        (rf"/files/{ID}", resources.FileHandler),
        (rf"/files/{ID}/(download)", resources.FileHandler),
        (rf"/files/{ID}/request", resources.FileRequestHandler),
        (r"/delta", delta.DeltaHandler),
        (r"/delta/latest_cursor", delta.LatestCursorHandler),
        (r"/delta/generate_cursor", delta.GenerateCursorHandler),
        (r"/delta/longpoll", delta.LongPollHandler),
        (r"/delta/streaming", delta.StreamingHandler),
        (r"/openapi.json", openapi.OpenAPIHandler),
    ]


class WithToken(PathMatches):
    """A path at the root, for requests whose Authorization header carries a token."""

    def match(self, request):
        if auth.token_from(request.headers.get("Authorization")) is None:
            return None
        return super().match(request)


def routes(deps, prefix="/api"):
    """(pattern, handler, kwargs) rows for Tornado, to mount last, each handler given ``deps``
    (see server.dependencies).  The JSON 404 answers unknown paths under /api and token-carrying
    ones elsewhere; the JSON 413 a body declared over its handler's limit, first."""
    prefixed = [(PathMatches(prefix + pattern + "/?"), handler) for pattern, handler in table()]
    at_root = [(WithToken(pattern + "/?"), handler) for pattern, handler in table()]
    too_large = (OverLimit([*prefixed, *at_root], deps["store"], smallest=MAX_JSON), TooLargeHandler)
    return mounted([too_large, *prefixed, (prefix + r"/.*", NotFoundHandler), *at_root,
                    (WithToken(r"/.*"), NotFoundHandler)], deps)
