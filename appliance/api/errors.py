"""API errors, answered as the sync-engine did: ``{"message": ..., "type": ...}``."""

import contextlib

import tornado.web

from appliance.store.errors import StoreError


class APIError(tornado.web.HTTPError):
    """Logged by Tornado as a warning, answered by ``ApiHandler.write_error``."""

    def __init__(self, status, message, type_="invalid_request_error"):
        super().__init__(status, reason=_reason(message))
        self.message = message
        self.type = type_


def _reason(message):
    """The HTTP status line takes one line of Latin-1."""
    return " ".join(message.split())[:200].encode("latin-1", "replace").decode("latin-1")


def bad_request(message):
    return APIError(400, message)


def not_found(what, object_id):
    return APIError(404, f"Couldn't find {what} with id {object_id}")


@contextlib.contextmanager
def refused_as_bad_request():
    """The store's refusals (a bad address, no recipient...) become 400s with its message."""
    try:
        yield
    except StoreError as error:
        raise bad_request(str(error)) from None
