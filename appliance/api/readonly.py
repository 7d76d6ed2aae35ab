"""Read-only fields on writes.  Clients (the Nylas SDKs) send back the whole object they got:
``id``, ``object``, ``account_id``, ``date``, ``snippet``...  They are dropped when they say what
the box already knows (or nothing), and refused only when they contradict the request."""

from appliance.api.errors import bad_request

# Worked out by the box from the rest; whatever a client sends back is stale or the same.
DERIVED = ("date", "snippet", "files", "events", "headers", "folders", "state", "state_reason",
           "thread_id", "last_modified_at")
# Attributes of the user's own copy, changed by PUT /messages and /threads, not on drafts.
FLAGS = ("unread", "starred")


def dropped(body, user_id, kind, object_id=None, current=None, derived=DERIVED, fixed=()):
    """``body`` without its read-only fields; a 400 for those that contradict.  ``kind`` is
    the object a client may call it (a tuple: a send takes a draft or a message); ``current``
    the object as encoded now, whose ``fixed`` fields may only be sent back as they are."""
    body = dict(body)
    _same(body, "object", lambda value: value in kind, f"object must be {kind[0]}")
    _same(body, "account_id", lambda value: value == str(user_id), "account_id is not yours")
    _same(body, "id", lambda value: object_id is not None and value == str(object_id),
          "id is given by the box" if object_id is None else "id does not match the URL")
    _same(body, "tracking", lambda value: not value, "The box does not track messages")
    _same(body, "reply_to", lambda value: not value or (current and value == current.get("reply_to")),
          "reply_to cannot be set on the box's mail")  # a thread has none
    for name in fixed:
        _same(body, name, lambda value: current is not None and value == current.get(name),
              f"{name} cannot be changed here")
    for name in derived:
        body.pop(name, None)
    return body


def _same(body, name, agrees, refusal):
    if name in body and body[name] is not None and not agrees(body[name]):
        raise bad_request(refusal)
    body.pop(name, None)
