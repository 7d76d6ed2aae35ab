"""The relay's key pair for external accounts: boxes seal account settings to its public half."""

from pouch import sealing
from pouch.blobs.signing import load_or_create_key


def account_keys(settings):
    """(private, public) raw X25519 keys, made owner-only on first use (any 32 random bytes are a key)."""
    private = load_or_create_key(settings.account_key_file)
    return private, sealing.public_key_of(private)
