"""What a person types to add an external account, checked and turned into the settings
the relay needs (the dict of the accounts contract, sealed before it is stored).

The settings split in two: the *servers* (hosts, ports, security, user name, how to sign
in) are kept on the box in the clear, to be shown and to be sealed again with a new
password; the *secrets* (password, OAuth2 client secret and refresh token) exist only
in memory, between the form and the seal."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from appliance.store import addresses
from appliance.store.errors import N_, StoreError
from appliance.store.safe_text import whole_number

SECURITIES = ("tls", "starttls", "none")
PASSWORD, XOAUTH2 = "password", "xoauth2"
DEFAULT_DAYS, MAX_DAYS = 30, 365
HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                  r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
MAX_SECRET = 4096  # refresh tokens run to a couple of kilobytes; more is not a token


@dataclass
class AccountForm:
    """The add (or change password) form as typed: every field a string."""

    address: str = ""
    display_name: str = ""
    imap_host: str = ""
    imap_port: str = ""
    imap_security: str = "tls"
    smtp_host: str = ""
    smtp_port: str = ""
    smtp_security: str = "tls"
    username: str = ""
    auth: str = PASSWORD
    password: str = ""
    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    days: str = str(DEFAULT_DAYS)

    SECRET_FIELDS = ("password", "client_secret", "refresh_token")

    def without_secrets(self):
        """The form to show again after an error: secrets are never sent back to a page."""
        return AccountForm(**{name: "" if name in self.SECRET_FIELDS else value
                              for name, value in vars(self).items()})


def check_address(text):
    pairs = addresses.parse(text.strip())
    if len(pairs) != 1:
        raise StoreError(N_("Give one email address, like amani@gmail.com."))
    return pairs[0][1]


def servers(form):
    """The checked non-secret settings of ``form``, as kept on the box."""
    found = {"auth": _auth(form.auth), "days": _days(form.days),
             "username": form.username.strip() or check_address(form.address)}
    for side, name in (("imap", "IMAP"), ("smtp", "SMTP")):
        found[f"{side}_host"] = _host(getattr(form, f"{side}_host"), name)
        found[f"{side}_port"] = _port(getattr(form, f"{side}_port"), name)
        found[f"{side}_security"] = _security(getattr(form, f"{side}_security"))
    if len(found["username"]) > 254:
        raise StoreError(N_("The user name is too long."))
    if found["auth"] == XOAUTH2:
        found.update(token_url=_token_url(form.token_url), client_id=_required(
            form.client_id, N_("For OAuth2, give the client id.")))
    return found


def secrets(form, auth):
    """The checked secrets of ``form`` for sign-in method ``auth``."""
    if auth == XOAUTH2:
        return {"client_secret": _limited(form.client_secret),
                "refresh_token": _required(form.refresh_token, N_("For OAuth2, give the refresh token."))}
    return {"password": _required(form.password, N_("Give the password (or app password) of this address."),
                                  strip=False)}


def settings(kept, secret):
    """The settings dict of the accounts contract, from the servers kept and the secrets."""
    whole = {key: kept[key] for key in ("imap_host", "imap_port", "imap_security", "smtp_host",
                                        "smtp_port", "smtp_security", "username", "auth", "days")}
    if kept["auth"] == XOAUTH2:
        whole["oauth"] = {"token_url": kept["token_url"], "client_id": kept["client_id"], **secret}
    else:
        whole["password"] = secret["password"]
    return whole


def _auth(text):
    if text not in (PASSWORD, XOAUTH2):
        raise StoreError(N_("Choose how to sign in: password or OAuth2."))
    return text


def _host(text, server):
    host = text.strip().lower().rstrip(".")
    if not HOST.match(host):
        raise StoreError(N_("Give the %(server)s server's name, like mail.example.org."), server=server)
    return host


def _port(text, server):
    port = whole_number(text, digits=5)
    if port is None or not 0 < port < 65536:
        raise StoreError(N_("The %(server)s port is a number from 1 to 65535."), server=server)
    return port


def _security(text):
    if text not in SECURITIES:
        raise StoreError(N_("Choose the connection security: TLS, STARTTLS or none."))
    return text


def _days(text):
    days = whole_number(text.strip() or str(DEFAULT_DAYS), digits=3)
    if days is None or not 0 < days <= MAX_DAYS:
        raise StoreError(N_("Bring mail of the last 1 to 365 days."))
    return days


def _token_url(text):
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > 2000:
        raise StoreError(N_("For OAuth2, give the token URL; it starts with https://."))
    return url


def _required(text, message, strip=True):
    value = _limited(text.strip() if strip else text)
    if not value:
        raise StoreError(message)
    return value


def _limited(text):
    if len(text) > MAX_SECRET:
        raise StoreError(N_("A password or token is at most 4096 characters."))
    return text
