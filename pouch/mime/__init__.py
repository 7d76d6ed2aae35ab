"""MIME <-> record conversion: what arrives from the internet becomes a
MessageRecord plus attachment blobs, and a record becomes MIME for sending.

    parsed = parse(raw_bytes, record_id)   # parsed.record, parsed.blobs
    raw = build(record, blobs)             # blobs: sha256 digest -> bytes
"""

from .build import build
from .errors import MimeError
from .parse import ParsedMessage, parse

__all__ = ["MimeError", "ParsedMessage", "build", "parse"]
