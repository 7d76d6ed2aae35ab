"""An account's settings, as the box sealed them, opened in memory only when connecting;
and XOAUTH2 access tokens traded for the refresh token the settings hold."""

import hashlib
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from pouch import sealing
from relay import keys
from relay.accounts import destinations
from relay.accounts.errors import AuthFailure, Unreachable

SECURITIES = ("tls", "starttls", "none")
AUTHS = ("password", "xoauth2")
DEFAULT_DAYS = 30
TOKEN_MARGIN_S = 60  # a cached access token is renewed this long before it expires
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
ANSWER_LIMIT = 64 * 1024

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    username: str
    auth: str
    password: str = field(default="", repr=False)
    oauth: dict = field(default_factory=dict, repr=False)
    days: int = DEFAULT_DAYS


def open_sealed(settings, sealed):
    """The Credentials in ``sealed``; AuthFailure (for people) when they cannot be used, or point
    where this relay does not connect (relay.accounts.destinations)."""
    if not sealed:
        raise AuthFailure("the relay has no settings for this account yet; enter them again on the box")
    private_key, _ = keys.account_keys(settings)
    try:
        values = sealing.unseal(private_key, sealed)
    except sealing.SealError as error:
        raise AuthFailure(f"the relay cannot open this account's settings ({error}); "
                          "enter them again on the box") from None
    credentials = parse(values)
    destinations.check(credentials, settings.accounts.allow_private_hosts)
    return credentials


def parse(values):
    """Credentials from the sealed dict (accounts contract); AuthFailure naming what is wrong."""
    problems = []

    def get(name, kind, default=None, choices=None):
        value = values.get(name, default)
        if isinstance(value, bool) or not isinstance(value, kind) or (choices and value not in choices):
            problems.append(name)
            return kind()
        return value

    credentials = Credentials(
        imap_host=get("imap_host", str), imap_port=get("imap_port", int),
        imap_security=get("imap_security", str, choices=SECURITIES),
        smtp_host=get("smtp_host", str, ""), smtp_port=get("smtp_port", int, 0),
        smtp_security=get("smtp_security", str, "tls", SECURITIES),
        username=get("username", str), auth=get("auth", str, "password", AUTHS),
        password=get("password", str, ""), oauth=get("oauth", dict, {}), days=get("days", int, DEFAULT_DAYS))
    if not credentials.imap_host:
        problems.append("imap_host")
    if credentials.auth == "xoauth2":
        problems += [f"oauth.{key}" for key in ("token_url", "client_id", "refresh_token")
                     if not isinstance(credentials.oauth.get(key), str) or not credentials.oauth.get(key)]
    if problems:
        raise AuthFailure(f"this account's settings are incomplete or wrong ({', '.join(sorted(set(problems)))}); "
                          "enter them again on the box")
    return credentials


class TokenSource:
    """XOAUTH2 access tokens, each reused until shortly before it expires (one per refresh token).

    The token endpoint is fetched hop by hop: each redirect's target, and the address each
    connection reaches, must pass ``rule`` (relay.accounts.destinations).  What the provider
    says when it refuses goes to the relay's log only; the box user gets a reason of ours."""

    def __init__(self, timeout_s, allow_private=False):
        self.timeout_s = timeout_s
        self.rule = destinations.Rule(allow_private)
        self._lock = threading.Lock()
        self._tokens = {}  # digest of (url, client, refresh token) -> (access token, expires at)

    def secret(self, credentials):
        """What to log in with: the password, or a fresh access token."""
        if credentials.auth != "xoauth2":
            return credentials.password
        oauth = credentials.oauth
        digest = _digest(oauth)
        with self._lock:
            token, expires = self._tokens.get(digest, (None, 0))
        if token and expires - TOKEN_MARGIN_S > time.time():
            return token
        token, lifetime = self._refresh(oauth)
        with self._lock:
            self._tokens[digest] = (token, time.time() + lifetime)
        return token

    def forget(self, credentials):
        """Drop the cached token (the server refused it): the next login asks for a new one."""
        with self._lock:
            self._tokens.pop(_digest(credentials.oauth), None)

    def _refresh(self, oauth):
        """(access token, lifetime in seconds) from the provider's token endpoint."""
        url = oauth["token_url"]
        host = urllib.parse.urlsplit(url).netloc or url
        body = urllib.parse.urlencode({
            "grant_type": "refresh_token", "refresh_token": oauth["refresh_token"],
            "client_id": oauth["client_id"], "client_secret": oauth.get("client_secret", ""),
        }).encode()
        try:
            answer = json.loads(self._post(url, body))
        except urllib.error.HTTPError as error:
            log.warning("token endpoint %s refused the refresh: HTTP %s %s", host, error.code, _oauth_error(error))
            if error.code in (400, 401, 403):
                raise AuthFailure(f"{host} refused the account's OAuth2 refresh token (HTTP {error.code}); "
                                  "sign in again on the box") from None
            raise Unreachable(f"{host} answered {error.code} when asked for an access token") from None
        except ValueError as error:
            log.warning("token endpoint %s answered what is not JSON: %s", host, error)
            raise Unreachable(f"{host} did not answer the token request with JSON") from None
        except (urllib.error.URLError, OSError) as error:
            raise Unreachable(f"cannot get an access token from {host}: {_reason(error)}") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise Unreachable(f"{host} gave no access token")
        lifetime = answer.get("expires_in", 3600)
        return token, lifetime if isinstance(lifetime, (int, float)) else 3600

    def _post(self, url, body):
        """The answer's body to POSTing ``body`` to ``url``, following at most MAX_REDIRECTS
        redirects, each checked by the rule before it is fetched (as 301-303 say: by GET)."""
        opener = urllib.request.build_opener(_NoRedirects, _CheckedHTTP(self.rule), _CheckedHTTPS(self.rule))
        what = destinations.TOKEN_SERVER
        for _ in range(MAX_REDIRECTS + 1):
            self.rule.check_token_url(url, what)
            request = urllib.request.Request(url, data=body, method="POST" if body else "GET", headers={
                "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
            try:
                with opener.open(request, timeout=self.timeout_s) as response:
                    return response.read(ANSWER_LIMIT)
            except urllib.error.HTTPError as error:
                location = error.headers.get("Location") if error.code in REDIRECTS else None
                if not location:
                    raise
                error.close()
                log.info("token endpoint %s redirects (%s) to %s", url, error.code, location)
                url = urllib.parse.urljoin(url, location)
                body = None if error.code in (301, 302, 303) else body
                what = "OAuth2 token server's redirect to"
        raise Unreachable(f"the OAuth2 token server redirected more than {MAX_REDIRECTS} times")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError: TokenSource._post checks each before following it."""

    def redirect_request(self, *_args):
        return None


class _CheckedHTTP(urllib.request.HTTPHandler):
    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def http_open(self, request):
        return self.do_open(_checked(http.client.HTTPConnection, self.rule), request)


class _CheckedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def https_open(self, request):
        return self.do_open(_checked(http.client.HTTPSConnection, self.rule), request, context=self._context)


def _checked(connection_class, rule):
    """``connection_class`` whose TCP connection (before TLS or a byte sent) reaches only
    a peer ``rule`` allows."""
    def connection(*args, **kwargs):
        made = connection_class(*args, **kwargs)
        made._create_connection = rule.connect
        return made
    return connection


def _digest(oauth):
    return hashlib.sha256(json.dumps(
        [oauth.get("token_url"), oauth.get("client_id"), oauth.get("refresh_token")]).encode()).hexdigest()


def _reason(error):
    """What went wrong connecting, from our side (a refused address: the rule's own words)."""
    reason = getattr(error, "reason", error)
    return str(reason.strerror if isinstance(reason, OSError) and reason.strerror else reason)


def _oauth_error(error):
    try:
        answer = json.loads(error.read(16 * 1024))
        return str(answer.get("error_description") or answer.get("error") or error.code)
    except (ValueError, AttributeError, OSError):
        return str(error.code)
