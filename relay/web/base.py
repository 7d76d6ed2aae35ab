"""What the relay's handlers share: bounded bodies, JSON errors, credentials."""

import asyncio
import base64
import binascii
import hmac
import json

import tornado.web

from pouch import limits


@tornado.web.stream_request_body
class BoundedHandler(tornado.web.RequestHandler):
    """A handler that reads at most ``max_body_bytes()`` of request body, then refuses.

    Each endpoint says how much it will parse; the server's own limit is for the others.
    """

    def max_body_bytes(self):
        return self.settings["relay"].web.max_json_bytes

    def prepare(self):
        self._chunks = []
        limit = self.max_body_bytes()
        declared = self.request.headers.get("Content-Length")
        if declared is not None and not (declared.isascii() and declared.isdigit()):  # "²" is isdigit()
            raise tornado.web.HTTPError(400, "the Content-Length header is not a number of bytes")
        if declared is not None and int(declared) > limit:
            raise tornado.web.HTTPError(413, f"request body over {limit} bytes")
        # Bodies without a Content-Length (chunked) are cut off by the connection itself.
        self.request.connection.set_max_body_size(limit)

    def data_received(self, chunk):
        self._chunks.append(chunk)

    @property
    def body(self):
        return b"".join(self._chunks)

    def json_body(self):
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise tornado.web.HTTPError(400, "the request body is not JSON") from None
        if not isinstance(value, dict):
            raise tornado.web.HTTPError(400, "the request body is not a JSON object")
        if limits.unstorable_text(value) is not None:
            raise tornado.web.HTTPError(400, "the request body holds a string that is not valid UTF-8 "
                                             "(a lone surrogate) or a NUL character")
        return value

    def finish_json(self, document):
        """Compact JSON: the answers to a box cross its modem.  application/json takes no
        charset (RFC 8259: it is UTF-8)."""
        self.set_header("Content-Type", "application/json")
        return self.finish(json.dumps(document, separators=(",", ":")).replace("</", "<\\/"))

    def write_error(self, status_code, **kwargs):
        # Errors are JSON; the message is in the body, never in the status line.
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.finish_json({"error": message})

    def run_blocking(self, function, *args):
        """Database work runs off the IOLoop."""
        return asyncio.to_thread(function, *args)


def basic_credentials(request):
    """(user, password) from an ``Authorization: Basic`` header, or None."""
    kind, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def check_basic_auth(handler, user, password, realm="mailpouch relay"):
    """Answer 401 unless the request carries exactly these (configured) credentials; the
    WWW-Authenticate challenge makes a browser ask for them."""
    given = basic_credentials(handler.request)
    expected = f"{user}:{password}".encode("utf-8")
    ok = bool(user and password and given) and hmac.compare_digest(
        f"{given[0]}:{given[1]}".encode("utf-8"), expected)
    if not ok:  # not an HTTPError: send_error would clear the challenge header
        handler.set_status(401)
        handler.set_header("WWW-Authenticate", f'Basic realm="{realm}"')
        raise tornado.web.Finish({"error": "wrong user or password" if given else "credentials required"})


def bearer_token(request):
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None
