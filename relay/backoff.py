"""Retry delays: ``backoff_s`` after the first failure, doubled after each one, at most
``backoff_max_s`` (outbound sends, external accounts, Sent copies)."""


def delay(config, failures):
    """Seconds to wait after ``failures`` failures in a row (1 or more)."""
    return min(config.backoff_s * 2 ** max(failures - 1, 0), config.backoff_max_s)
