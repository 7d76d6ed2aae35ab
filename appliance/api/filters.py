"""The sync-engine's message and thread filters, read into a ``store.listing.Filter``."""

from appliance.api import params
from appliance.api.errors import bad_request
from appliance.store.listing import Filter
from appliance.store.mailbox import FOLDERS

ADDRESSES = {"to": "to", "from": "from_", "cc": "cc", "bcc": "bcc", "any_email": "any_email"}
TIMES = ("received_before", "received_after", "started_before", "started_after",
         "last_message_before", "last_message_after")
FLAGS = ("unread", "starred")
ORDERS = {"date": True, "-date": False}  # oldest first, newest first (the default)
NAMES = (*params.PAGING, "in", "thread_id", "subject", "filename", *ADDRESSES, *TIMES, *FLAGS,
         "message_id_header", "order_by")
MAX_TEXT = 998  # the longest line a mail header may have


def read(args):
    """A Filter for the checked query ``args``; None when no message can match
    (a folder the box does not have: the sync-engine answered with nothing then too)."""
    wanted = Filter()
    if "thread_id" in args:
        wanted.thread_id = params.object_id("thread_id", args["thread_id"])
    for name, field in (*ADDRESSES.items(), ("subject", "subject"), ("filename", "filename")):
        if name in args:
            setattr(wanted, field, _text(name, args[name]))
    for name in TIMES:
        if name in args:
            setattr(wanted, name, params.integer(name, args[name], -params.MAX_INT))
    if "message_id_header" in args:
        wanted.message_id_header = _text("message_id_header", args["message_id_header"]).strip().strip("<>")
    if "order_by" in args:
        if args["order_by"] not in ORDERS:
            raise bad_request(f"order_by must be one of {', '.join(ORDERS)}")
        wanted.oldest_first = ORDERS[args["order_by"]]
    for name in FLAGS:
        if name in args:
            setattr(wanted, name, params.boolean(name, args[name]))
    folder = args.get("in")
    if folder is not None:
        if folder.lower() not in FOLDERS:
            return None
        wanted.folder = folder.lower()
    return wanted


def _text(name, value):
    if len(value) > MAX_TEXT:
        raise bad_request(f"{name} is too long")
    return value
