"""The relay's API as the box calls it: registration and the sync handshake.

One ``CurlAsyncHTTPClient`` carries the API calls and the blob transfers of a
whole window, so curl keeps one connection (one TLS handshake) alive."""

import json
from dataclasses import dataclass, field

import tornado.httpclient

REQUEST_TIMEOUT_S = 120  # the relay packs pending mail while it answers
CONNECT_TIMEOUT_S = 30
# Every request of a sync crosses the modem: curl's own Accept and Accept-Encoding and its 32-byte
# User-Agent stay home.  Only the API's answers may come gzipped (the relay's offer of a long day);
# pouches are compressed already.
HTTP_DEFAULTS = {"user_agent": "mailpouch", "decompress_response": False}
NO_ACCEPT = {"Accept": ""}  # an empty header: curl sends none of its own
API_HEADERS = {"Content-Type": "application/json", **NO_ACCEPT,
               "Accept-Encoding": "gzip"}  # the relay sends no deflate: curl's ",deflate" stays home


class RelayError(Exception):
    """The relay could not be asked, or refused; ``temporary`` says whether retrying may help."""

    def __init__(self, message, temporary):
        super().__init__(message)
        self.temporary = temporary


@dataclass
class Counter:
    """Payload bytes of the API calls (request and response bodies)."""

    requests: int = 0
    sent_bytes: int = 0
    received_bytes: int = 0


MAX_REASON = 500  # characters kept of a reason the relay gives


@dataclass
class Offer:
    """A pouch the relay offers for download."""

    name: str
    url: str
    size: int
    sha256: str


@dataclass
class Slot:
    """Where the relay wants the next upload: its name for it, and the URL of its blocks."""

    name: str
    url: str


@dataclass
class Refusal:
    """An upload the relay would not take; ``permanent``: its mail can never go this way."""

    name: str
    error: str
    permanent: bool = False


@dataclass
class Answer:
    """The relay's answer to one sync request, checked field by field (the relay is a peer)."""

    downloads: list = field(default_factory=list)  # Offers
    upload: Slot | None = None
    accepted: list = field(default_factory=list)  # names of uploads taken over
    rejected: list = field(default_factory=list)  # Refusals
    account_key: str | None = None
    upload_error: str | None = None  # why the relay gave no upload slot (e.g. the box's quota)
    keep_days: int | None = None  # how long after an ack the relay keeps mail (store.blob_refs)
    resend: list = field(default_factory=list)  # uids taken over but to send again with their bytes

    @classmethod
    def parse(cls, document):
        try:
            return cls(downloads=[Offer(_text(d["name"]), _text(d["url"]), _size(d["size"]), _text(d["sha256"]))
                                  for d in _items(document.get("downloads"), "downloads")],
                       upload=_slot(document.get("upload")),
                       accepted=[_text(name) for name in _items(document.get("accepted") or [], "accepted")],
                       rejected=[Refusal(_text(r["name"]), _text(r.get("error", ""))[:MAX_REASON],
                                         r.get("permanent") is True)
                                 for r in _items(document.get("rejected") or [], "rejected")],
                       account_key=document.get("account_key"),
                       upload_error=_text(document["upload_error"])[:MAX_REASON] if "upload_error" in document else None,
                       keep_days=_size(document["keep_days"]) if "keep_days" in document else None,
                       resend=[_text(uid) for uid in _items(document.get("resend") or [], "resend")])
        except (KeyError, TypeError, AttributeError) as error:
            raise RelayError(f"the relay's sync answer is not one: {error!r}", True) from None


def _items(value, key):
    if not isinstance(value, list):
        raise TypeError(f"'{key}' is not a list")
    return value


def _text(value):
    if not isinstance(value, str):
        raise TypeError(f"{type(value).__name__} where text was expected")
    return value


def _size(value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{value!r} is not a size")
    return value


def _slot(value):
    return None if value is None else Slot(_text(value["name"]), _text(value["url"]))


def make_http_client():
    """One curl client with a single connection: everything goes to the relay."""
    from tornado.curl_httpclient import CurlAsyncHTTPClient  # pycurl only where a sync runs

    return CurlAsyncHTTPClient(force_instance=True, max_clients=1, defaults=HTTP_DEFAULTS)


class RelayClient:
    def __init__(self, http, url, token=None, timeout_s=REQUEST_TIMEOUT_S):
        self.http = http
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.counter = Counter()

    async def register(self, code, domain=None):
        """{"box", "domain", "token"} (and the relay's "account_key") for a one-time ``code``;
        a relay refuses a ``domain`` other than the box's, keeping the code valid."""
        answer = await self._post("/api/v1/register", {"code": code} if domain is None else
                                  {"code": code, "domain": domain})
        if not all(isinstance(answer.get(key), str) for key in ("box", "domain", "token")):
            raise RelayError("the relay's registration answer lacks box, domain or token", False)
        return answer

    async def sync(self, received=(), uploaded=(), outgoing_size=None, want_account_key=False,
                   unreadable=(), missing=(), history=None):
        """One handshake request; returns the relay's Answer.  ``want_account_key`` asks for
        the relay's public key for sealing external accounts (``account_key``);
        ``unreadable`` tells it what the box set aside ({"name", "error"[, "message"]}), ``missing``
        the attachments it lacks though the relay left their bytes out ({"message", "sha256"}),
        ``history`` the newest piece it holds ("" for none; None: the box keeps none)."""
        document = {}  # what is empty stays out: the relay reads an absent field as empty
        if received:
            document["received"] = list(received)
        if uploaded:
            document["uploaded"] = list(uploaded)
        if outgoing_size is not None:
            document["outgoing"] = {"size": outgoing_size}
        if want_account_key:
            document["want_account_key"] = True
        if unreadable:
            document["unreadable"] = list(unreadable)
        if missing:
            document["missing"] = list(missing)
        if history is not None:  # even "": a box that keeps pieces, so the relay keeps them too
            document["history"] = history
        return Answer.parse(await self._post("/api/v1/sync", document))

    async def _post(self, path, document):
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = dict(API_HEADERS)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = tornado.httpclient.HTTPRequest(
            self.url + path, "POST", headers=headers, body=body, decompress_response=True,
            connect_timeout=CONNECT_TIMEOUT_S, request_timeout=self.timeout_s)
        self.counter.requests += 1
        self.counter.sent_bytes += len(body)
        try:
            response = await self.http.fetch(request, raise_error=False)
        except (tornado.httpclient.HTTPClientError, OSError) as error:
            raise RelayError(f"could not reach the relay at {self.url}: {error}", True) from None
        self.counter.received_bytes += len(response.body or b"")
        return self._answer(path, response)

    def _answer(self, path, response):
        if response.code == 599 or response.code >= 500 or response.code == 429:
            raise RelayError(f"the relay answered {path} with {response.code} {_reason(response)}", True)
        try:
            answer = json.loads(response.body or b"")
        except ValueError:
            answer = None
        if response.code != 200 or not isinstance(answer, dict):
            raise RelayError(f"the relay refused {path}: {response.code} {_reason(response)}", False)
        return answer


def _reason(response):
    try:
        return json.loads(response.body)["error"]
    except (ValueError, KeyError, TypeError):
        return str(response.error or response.reason or "")
