"""SendGrid's signed webhooks: ECDSA P-256/SHA-256 over timestamp + body.

The key is the base64 DER public key SendGrid shows; signature and timestamp
come in the X-Twilio-Email-Event-Webhook-* headers.
"""

import base64
import binascii
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class SignatureError(ValueError):
    """The request is not signed by the configured key (or too old)."""


def load_key(encoded):
    try:
        return load_der_public_key(base64.b64decode(encoded))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"the SendGrid verification key cannot be read: {error}") from None


def verify(key, headers, body, max_age_s, now=None):
    signature, timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError("the request is not signed")
    # Header values are Latin-1: "\xb2" (²) passes str.isdigit() but not int().
    if not (timestamp.isascii() and timestamp.isdigit()) or abs((now or time.time()) - int(timestamp)) > max_age_s:
        raise SignatureError("the signature's timestamp is missing or too old")
    try:
        key.verify(base64.b64decode(signature), timestamp.encode("ascii") + body,
                   ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):  # binascii.Error, or a str that is not ASCII
        raise SignatureError("the signature does not match") from None
