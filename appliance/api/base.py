"""What every API handler shares: token authentication, JSON in and out, checked
query parameters, and errors as ``{"message", "type"}``."""

import errno
import json
import sqlite3

import sqlalchemy.exc
import tornado.web

from pouch import limits

from appliance.api import auth, params
from appliance.api.errors import APIError, bad_request
from appliance.http_base import BoxHandler, OverLimitRefusal
from appliance.store import boxinfo

MAX_JSON = 1024 * 1024  # a draft's text; files come through POST /files


class ApiHandler(BoxHandler):
    """Subclasses name the query parameters each method takes in ``PARAMS``."""

    PARAMS = {}
    UPLOADS = False  # True where files ride in the body (POST /files, a raw MIME send)

    @classmethod
    def body_limit(cls, store):
        """Checked before the body is read (see server.BoxApplication), token or not."""
        if not cls.UPLOADS:
            return MAX_JSON
        with store.read() as conn:  # base64 in a MIME message: 4 bytes for every 3
            return boxinfo.max_attachment_bytes(conn) * 4 // 3 + MAX_JSON

    def get_current_user(self):
        return auth.authenticate(self.store, self.request.headers.get("Authorization"))

    def check_xsrf_cookie(self):
        """Requests carry a token, never cookies: nothing for a forged form to borrow."""

    def prepare(self):
        method = self._method()
        if method == "OPTIONS":  # what the path takes (options): no mail in it, no token needed
            return
        if method not in self.PARAMS:
            raise APIError(405, f"{self.request.method} is not allowed here")
        if self.current_user is None:
            raise APIError(401, "Could not verify access credential.")
        self.args = params.checked(self._query(), self.PARAMS[method])

    def _method(self):
        """HEAD is GET without the body (Tornado writes none), wherever GET is allowed."""
        return "GET" if self.request.method == "HEAD" else self.request.method

    def head(self, *args):
        return self.get(*args)

    def options(self, *args):
        self.set_header("Allow", ", ".join(self.allowed()))
        self.set_status(204)

    def allowed(self):
        methods = list(self.PARAMS)
        return [*methods, *(["HEAD"] if "GET" in methods else []), "OPTIONS"]

    def _query(self):
        return {name: self.get_query_arguments(name) for name in self.request.query_arguments}

    @property
    def user_id(self):
        return self.current_user["id"]

    def json_body(self):
        """The request's JSON object; anything else is a 400."""
        if len(self.request.body) > MAX_JSON:
            raise bad_request("The request body is too large")
        if not self.request.body:
            raise bad_request("The request needs a JSON body")
        if self.request.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise APIError(415, "Send the body uncompressed: the box takes no Content-Encoding")
        try:
            body = json.loads(self.request.body)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses
            raise bad_request("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
        if limits.unstorable_text(body) is not None:
            raise bad_request("The request body holds a string with a NUL character or a lone surrogate, "
                              "which the box cannot store")
        return body

    def reply(self, value, status=200):
        """Lists too: the sync-engine answers lists as bare JSON arrays."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(value, ensure_ascii=False))

    def write_error(self, status_code, **kwargs):
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, APIError):
            body = {"message": error.message, "type": error.type}
        elif _disk_full(error):  # the write's transaction was rolled back: say what to do
            self.set_status(507)
            body = {"message": "The box's storage is full, so nothing was saved: tell its admin.",
                    "type": "api_error"}
        elif status_code >= 500:
            body = {"message": "Internal error", "type": "api_error"}
        else:  # Tornado's own refusals (a multipart body it cannot read...) say why in log_message
            body = {"message": _told(error) or self._reason, "type": "invalid_request_error"}
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed()))
        if status_code == 401:  # send_error cleared the headers set before
            self.set_header("WWW-Authenticate", auth.CHALLENGE)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body, ensure_ascii=False))


def _disk_full(error):
    """A file write (ENOSPC) or SQLite (SQLITE_FULL) that found the card full."""
    if isinstance(error, sqlalchemy.exc.OperationalError):
        error = error.orig
    if isinstance(error, sqlite3.OperationalError):
        return "full" in str(error)
    return isinstance(error, OSError) and error.errno == errno.ENOSPC


def _told(error):
    """What a tornado.web.HTTPError says of the request, or None."""
    message = getattr(error, "log_message", None)
    if not message:
        return None
    args = getattr(error, "args", ())
    return message % args if args else message


class NotFoundHandler(ApiHandler):
    """Unknown paths under /api/ answer in JSON too."""

    def prepare(self):
        raise APIError(404, "No such endpoint")


@tornado.web.stream_request_body  # its prepare runs once the headers are in, before the body
class TooLargeHandler(OverLimitRefusal, ApiHandler):
    """A request whose declared body is over its endpoint's limit: a JSON 413."""

    def refuse(self):
        refusal = f"The request body is too large: at most {self.limit:,} bytes here"
        if self.path_kwargs["files"]:
            with self.store.read() as conn:
                refusal += f", a file at most {boxinfo.max_attachment_bytes(conn):,} bytes"
        raise APIError(413, refusal)
