"""What can go wrong with an external account, worded for the person who owns it."""


class AccountError(Exception):
    """Syncing cannot go on for now; ``str(error)`` says why, for people."""


class AuthFailure(AccountError):
    """The server refused the credentials, or they cannot be read: retry slowly, never hammer."""


class Unreachable(AccountError):
    """The server cannot be reached or broke off: retry with backoff."""


class Stopped(Exception):
    """The account was paused, removed or taken by another relay process while syncing."""
