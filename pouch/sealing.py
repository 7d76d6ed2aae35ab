"""Sealing an external account's settings to the relay's public key.

A box seals a user's IMAP/SMTP settings (password included) the moment they
are entered; the sealed bytes travel in a pouch and are kept as they are on
the relay, which unseals them only in memory when it connects.  Only the
relay's private key opens them: not the box, not the blob store, not a
backup of the relay's database.

Construction (an ECIES, as libsodium's sealed box): a fresh X25519 key pair
per seal, HKDF-SHA256 over the shared secret and both public keys, then
ChaCha20-Poly1305.  Layout: version byte | ephemeral public key (32) | nonce
(12) | ciphertext with its 16-byte tag.
"""

import os

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
KEY_SIZE = 32
NONCE_SIZE = 12
MAX_SEALED = 64 * 1024  # settings are a few hundred bytes; anything far bigger is not ours
_RAW = {"encoding": serialization.Encoding.Raw, "format": serialization.PublicFormat.Raw}


class SealError(ValueError):
    """Sealed bytes that this key cannot open (wrong key, damaged or not a seal at all)."""


def new_keypair():
    """(private, public) raw 32-byte X25519 keys."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    return raw_private, private.public_key().public_bytes(**_RAW)


def public_key_of(private_key):
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(**_RAW)


def seal(public_key, settings):
    """``settings`` (a msgpack-able dict) sealed so that only ``public_key``'s owner reads it."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(**_RAW)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    nonce = os.urandom(NONCE_SIZE)
    cipher = ChaCha20Poly1305(_key(shared, ephemeral_public, public_key))
    return bytes([VERSION]) + ephemeral_public + nonce + cipher.encrypt(nonce, msgpack.packb(settings), None)


def unseal(private_key, sealed):
    """The settings dict inside ``sealed``; raises SealError."""
    head = 1 + KEY_SIZE + NONCE_SIZE
    if not isinstance(sealed, bytes) or not head < len(sealed) <= MAX_SEALED or sealed[0] != VERSION:
        raise SealError("not a sealed account (wrong version or size)")
    ephemeral_public, nonce = sealed[1:1 + KEY_SIZE], sealed[1 + KEY_SIZE:head]
    private = X25519PrivateKey.from_private_bytes(private_key)
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    cipher = ChaCha20Poly1305(_key(shared, ephemeral_public, public_key_of(private_key)))
    try:
        settings = msgpack.unpackb(cipher.decrypt(nonce, sealed[head:], None), raw=False)
    except InvalidTag:
        raise SealError("the sealed account does not open with this relay's key") from None
    if not isinstance(settings, dict):
        raise SealError("the sealed account holds no settings")
    return settings


def _key(shared, ephemeral_public, recipient_public):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public,
                info=b"mailpouch account seal v1").derive(shared)
