"""Who an API request comes from: an API token, sent as the username of HTTP Basic
(as the sync-engine's clients send their credential) or as a Bearer token."""

import base64
import binascii

from appliance.store import tokens

CHALLENGE = 'Basic realm="Mailpouch API", charset="UTF-8"'


def token_from(header):
    """The token in an Authorization header, or None."""
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def authenticate(store, header):
    """The user row for the request's token, or None."""
    token = token_from(header)
    if token is None:
        return None
    with store.write() as conn:  # may note when the token was last used
        return tokens.user_for(conn, token)
