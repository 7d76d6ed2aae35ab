"""The API's URL table, to mount on the box's application (appliance.server) after the web's."""

from appliance.api import delta, drafts, mail, openapi, resources
from appliance.api.base import NotFoundHandler
from appliance.http_base import mounted

ID = r"([^/]{1,40})"


def routes(deps, prefix="/api"):
    """(pattern, handler, kwargs) rows for Tornado, to mount last, each handler given ``deps``
    (see server.dependencies)."""
    table = [
        (r"/account", resources.AccountHandler),
        (r"/threads", mail.ThreadListHandler),
        (rf"/threads/{ID}", mail.ThreadHandler),
        (r"/messages", mail.MessageListHandler),
        (rf"/messages/{ID}", mail.MessageHandler),
        (r"/drafts", drafts.DraftListHandler),
        (rf"/drafts/{ID}", drafts.DraftHandler),
        (r"/send", drafts.SendHandler),
        (r"/folders", resources.FolderListHandler),
        (rf"/folders/{ID}", resources.FolderHandler),
        (r"/contacts", resources.ContactListHandler),
        (rf"/contacts/{ID}", resources.ContactHandler),
        (r"/files", resources.FileListHandler),
        (rf"/files/{ID}", resources.FileHandler),
        (rf"/files/{ID}/(download)", resources.FileHandler),
        (r"/delta", delta.DeltaHandler),
        (r"/delta/latest_cursor", delta.LatestCursorHandler),
        (r"/delta/generate_cursor", delta.GenerateCursorHandler),
        (r"/delta/longpoll", delta.LongPollHandler),
        (r"/delta/streaming", delta.StreamingHandler),
        (r"/openapi.json", openapi.OpenAPIHandler),
        (r"/.*", NotFoundHandler),
    ]
    return mounted([(prefix + pattern, handler) for pattern, handler in table], deps)
