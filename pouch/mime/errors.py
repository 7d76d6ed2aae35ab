"""The one error of pouch.mime."""


class MimeError(ValueError):
    """Input that cannot be converted at all (empty message, missing blob)."""
