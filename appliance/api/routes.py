"""The API's URL table, to mount on the box's application: ``routes() + api_routes()``."""

from appliance.api import delta, drafts, mail, openapi, resources
from appliance.api.base import NotFoundHandler

ID = r"([^/]{1,40})"


def api_routes(prefix="/api"):
    """(pattern, handler) pairs for Tornado; handlers use the application's ``store``."""
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
    return [(prefix + pattern, handler) for pattern, handler in table]
