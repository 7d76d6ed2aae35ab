"""Registering the box with a relay: a one-time code becomes the box's own token.

The relay URL, box name and domain go into the database; the token goes into a
file of its own that only the service user can read (0600)."""

import os
from pathlib import Path

from appliance.store import sync_state
from appliance.sync.client import RelayClient, RelayError

TOKEN_FILE = "relay-token"


class NotRegistered(Exception):
    """The box has no relay to sync with yet."""


def token_path(settings):
    return Path(settings.box.data_dir) / TOKEN_FILE


def save_token(settings, token):
    path = token_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a file left by a crash
    os.replace(temporary, path)


class WrongDomain(RelayError):
    """The relay gave this box another domain than ``[box] domain``: its users' addresses
    would be ones the relay does not route to it."""

    def __init__(self, configured, domain):
        super().__init__(f"the relay gave this box the domain {domain}, but [box] domain is {configured}: "
                         f"set [box] domain = {domain} (or MAILPOUCH_BOX_DOMAIN={domain}) and register "
                         "again", False)


async def register(settings, store, http, relay_url, code):
    """Redeem ``code`` at ``relay_url`` for a box whose users are ``*@[box] domain``; returns
    {"box", "domain"} as the relay named them.  WrongDomain if the relay gave it another."""
    configured = settings.box.domain.lower()
    # The relay refuses another domain with the one to set, and the code stays valid.
    answer = await RelayClient(http, relay_url).register(code, configured)
    if answer["domain"].lower() != configured:  # a relay that does not compare
        raise WrongDomain(configured, answer["domain"])
    save_token(settings, answer["token"])
    with store.write() as conn:
        sync_state.save_registration(conn, relay_url.rstrip("/"), answer["box"], answer["domain"])
        if "account_key" in answer:  # an older relay has none: the first sync asks for it
            sync_state.save_account_key(conn, answer["account_key"])
    return {"box": answer["box"], "domain": answer["domain"]}


def credentials(settings, store):
    """(relay URL, token) of the registered box; NotRegistered if it is not."""
    with store.read() as conn:
        found = sync_state.registration(conn)
    path = token_path(settings)
    if found is None or not path.is_file():
        raise NotRegistered("this box is not registered with a relay: "
                            "run mailpouch-appliance register RELAY_URL CODE")
    return found["url"], path.read_text().strip()
