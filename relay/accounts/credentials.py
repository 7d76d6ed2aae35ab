"""An account's settings, as the box sealed them, opened in memory only when connecting;
and XOAUTH2 access tokens traded for the refresh token the settings hold."""

import hashlib
import json
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
    """XOAUTH2 access tokens, each reused until shortly before it expires (one per refresh token)."""

    def __init__(self, timeout_s):
        self.timeout_s = timeout_s
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
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                answer = json.loads(response.read(64 * 1024))
        except urllib.error.HTTPError as error:
            detail = _oauth_error(error)
            if error.code in (400, 401, 403):
                raise AuthFailure(f"{host} refused the account's OAuth2 refresh token ({detail}); "
                                  "sign in again on the box") from None
            raise Unreachable(f"{host} answered {error.code} when asked for an access token") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise Unreachable(f"cannot get an access token from {host}: {error}") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise Unreachable(f"{host} gave no access token")
        lifetime = answer.get("expires_in", 3600)
        return token, lifetime if isinstance(lifetime, (int, float)) else 3600


def _digest(oauth):
    return hashlib.sha256(json.dumps(
        [oauth.get("token_url"), oauth.get("client_id"), oauth.get("refresh_token")]).encode()).hexdigest()


def _oauth_error(error):
    try:
        answer = json.loads(error.read(16 * 1024))
        return str(answer.get("error_description") or answer.get("error") or error.code)
    except (ValueError, AttributeError, OSError):
        return str(error.code)
