"""Signed blob URLs for the folder store: HMAC-SHA256 over name, permissions,
expiry and, for uploads, the most bytes the blob may take, so a URL grants
exactly one blob, some operations, for a while, up to a size."""

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
import time
import urllib.parse
from pathlib import Path

MIN_KEY_BYTES = 16
NEW_KEY_BYTES = 32


class SignatureError(Exception):
    """A URL's signature is missing, wrong or expired."""


class UrlSigner:
    def __init__(self, key):
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the signing key needs at least {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)

    def query(self, name, permissions, lifetime_s, now=None, max_bytes=None):
        """The query string granting ``permissions`` on ``name`` for ``lifetime_s``;
        with ``max_bytes``, on a blob of at most that many bytes (``sz``)."""
        expiry = int((time.time() if now is None else now) + lifetime_s)
        fields = {"sp": permissions, "se": expiry}
        if max_bytes is not None:
            fields["sz"] = max_bytes = int(max_bytes)
        fields["sig"] = self._sign(name, permissions, expiry, max_bytes)
        return urllib.parse.urlencode(fields)

    def verify(self, name, permissions, expiry, signature, now=None, max_bytes=None):
        """Raise SignatureError unless the signature grants ``permissions`` now;
        return the most bytes it lets the blob take (None: no bound of its own)."""
        expiry = _integer(expiry, "expiry (se)")
        if max_bytes is not None:
            max_bytes = _integer(max_bytes, "size bound (sz)")
        expected = self._sign(name, permissions, expiry, max_bytes)
        if not hmac.compare_digest(expected.encode(), (signature or "").encode()):
            raise SignatureError("the URL's signature does not match")
        if expiry <= (time.time() if now is None else now):
            raise SignatureError("the URL has expired")
        return max_bytes

    def _sign(self, name, permissions, expiry, max_bytes=None):
        message = f"{name}\n{permissions}\n{expiry}"
        if max_bytes is not None:  # URLs without a bound keep the signature they always had
            message += f"\n{max_bytes}"
        message = message.encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _integer(value, what):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SignatureError(f"the URL has no valid {what}") from None
    if number < 0 or str(number) != str(value).strip():
        raise SignatureError(f"the URL has no valid {what}")
    return number


def load_or_create_key(path):
    """The signing key kept in the file ``path``, made (random, owner-only) on
    first use, so URLs handed out stay valid across restarts and processes."""
    path = Path(path)
    if not path.exists():
        _create_key_file(path)
    try:
        return bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise ValueError(f"{path} does not hold a signing key in hex") from None


def _create_key_file(path):
    # Written whole, then linked into place: a process starting at the same
    # time sees no key file or a complete one, and the first link wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent)  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_bytes(NEW_KEY_BYTES).hex() + "\n")
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
