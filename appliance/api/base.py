"""What every API handler shares: token authentication, JSON in and out, checked
query parameters, and errors as ``{"message", "type"}``."""

import json

from appliance.api import auth, params
from appliance.api.errors import APIError, bad_request
from appliance.http_base import BoxHandler
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
        if self.request.method not in self.PARAMS:
            raise APIError(405, f"{self.request.method} is not allowed here")
        if self.current_user is None:
            raise APIError(401, "Could not verify access credential.")
        self.args = params.checked(self._query(), self.PARAMS.get(self.request.method, ()))

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
        try:
            body = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
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
        elif status_code >= 500:
            body = {"message": "Internal error", "type": "api_error"}
        else:
            body = {"message": self._reason, "type": "invalid_request_error"}
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.PARAMS))
        if status_code == 401:  # send_error cleared the headers set before
            self.set_header("WWW-Authenticate", auth.CHALLENGE)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body, ensure_ascii=False))


class NotFoundHandler(ApiHandler):
    """Unknown paths under /api/ answer in JSON too."""

    def prepare(self):
        raise APIError(404, "No such endpoint")
