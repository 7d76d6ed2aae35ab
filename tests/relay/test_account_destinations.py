"""A box user's account settings cannot make the relay connect into its own network: servers on
private addresses, and OAuth2 token URLs without TLS, are refused unless the operator allows them."""

import pytest

from relay.accounts import credentials as account_credentials, destinations
from relay.accounts.errors import AuthFailure
from tests.relay.accounts_support import (ACCOUNT_ID, ADDRESS, FAST, PASSWORD, account_record, account_row,
                                          accounts_running, database_url, message, queued_subjects, received,
                                          settings_for, until, upload)

__all__ = ["database_url"]  # a fixture, imported by name

PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:4700:4700::1111"


def credentials(imap_host=PUBLIC_V4, smtp_host="", token_url=None):
    values = {"imap_host": imap_host, "imap_port": 993, "imap_security": "tls", "smtp_host": smtp_host,
              "smtp_port": 465, "username": "ami", "auth": "password", "password": "secret"}
    if token_url:
        values.update(auth="xoauth2", oauth={"token_url": token_url, "client_id": "box", "refresh_token": "r"})
    return account_credentials.parse(values)


def url_host(host):
    return f"[{host}]" if ":" in host else host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.1.1", "172.16.0.9",
                                  "169.254.169.254", "0.0.0.0", "::1", "fd00::1", "100.64.0.1"])
def test_a_server_on_a_private_address_is_refused_with_a_reason(host):
    with pytest.raises(AuthFailure, match=r"the IMAP server .* is at a private address \(.+\)"):
        destinations.check(credentials(imap_host=host), allow_private=False)
    with pytest.raises(AuthFailure, match="the SMTP server .* private address"):
        destinations.check(credentials(smtp_host=host), allow_private=False)
    with pytest.raises(AuthFailure, match="the OAuth2 token server .* private address"):
        destinations.check(credentials(token_url=f"https://{url_host(host)}:8443/token"), allow_private=False)
    destinations.check(credentials(imap_host=host, smtp_host=host), allow_private=True)


def test_public_servers_and_names_that_do_not_resolve_pass():
    destinations.check(credentials(imap_host=PUBLIC_V4, smtp_host=PUBLIC_V6,
                                   token_url=f"https://{PUBLIC_V4}/token"), allow_private=False)
    # Not resolvable here: connecting fails on its own, as an unreachable server (with backoff).
    destinations.check(credentials(imap_host="imap.nowhere.invalid"), allow_private=False)


@pytest.mark.parametrize("url", [f"http://{PUBLIC_V4}/token", f"https://{PUBLIC_V4}:port/token", "token"])
def test_a_token_url_without_tls_or_that_does_not_parse_is_refused(url):
    with pytest.raises(AuthFailure, match="must be a URL that starts with https://"):
        destinations.check(credentials(token_url=url), allow_private=False)


@pytest.mark.parametrize("relay_overrides", [dict(FAST, accounts_allow_private_hosts=False)])
@pytest.mark.gen_test(timeout=60)
async def test_an_account_on_the_relays_own_network_is_never_contacted_and_the_box_is_told(
        relay, dovecot, tmp_path):
    dovecot.add_user(ADDRESS, PASSWORD)
    dovecot.seed(ADDRESS, [message("never fetched")])
    box = await relay.register("goma")
    await upload(box, tmp_path, account_record(relay, settings_for(dovecot)))  # Dovecot is on 127.0.0.1
    before = len(dovecot.log())  # the fixture's own readiness probe is in the log already
    async with accounts_running(relay) as supervisor:
        row = await until(lambda: (row := account_row(relay)) and row["sync_state"] == "error" and row,
                          "the account in error")
        for _ in range(5):
            await supervisor.tick()
    assert "private address (127.0.0.1)" in row["last_error"]
    assert "imap-login" not in dovecot.log()[before:] and queued_subjects(relay) == []
    _, account_statuses = await received(box, tmp_path)
    assert [(s.id, s.state) for s in account_statuses] == [(ACCOUNT_ID, "error")]
    assert "does not connect to" in account_statuses[0].error
