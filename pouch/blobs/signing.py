"""Signed blob URLs for the folder store: HMAC-SHA256 over name, permissions
and expiry, so a URL grants exactly one blob, some operations, for a while."""

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

    def query(self, name, permissions, lifetime_s, now=None):
        """The query string granting ``permissions`` on ``name`` for ``lifetime_s``."""
        expiry = int((time.time() if now is None else now) + lifetime_s)
        signature = self._sign(name, permissions, expiry)
        return urllib.parse.urlencode({"sp": permissions, "se": expiry, "sig": signature})

    def verify(self, name, permissions, expiry, signature, now=None):
        """Raise SignatureError unless the signature grants ``permissions`` now."""
        try:
            expiry = int(expiry)
        except (TypeError, ValueError):
            raise SignatureError("the URL has no valid expiry (se)") from None
        expected = self._sign(name, permissions, expiry)
        if not hmac.compare_digest(expected.encode(), (signature or "").encode()):
            raise SignatureError("the URL's signature does not match")
        if expiry <= (time.time() if now is None else now):
            raise SignatureError("the URL has expired")

    def _sign(self, name, permissions, expiry):
        message = f"{name}\n{permissions}\n{expiry}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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
