"""A name that passed the private-address rule when the settings were opened, and reaches a
private address when the relay connects (DNS rebinding), gets no password: the IMAP and SMTP
connections check the address they reached before logging in."""

import pytest

from relay.accounts import credentials as account_credentials, destinations
from relay.accounts.errors import AuthFailure
from relay.accounts.imap import Connection
from relay.outbound.accounts import _login
from relay.outbound.transports import PermanentFailure, smtp_send
from tests.relay.accounts_support import ADDRESS, PASSWORD, settings_for
from tests.relay.test_accounts_sending import smtp_factory  # noqa: F401  (a fixture, used by name)

REFUSING = destinations.Rule(allow_private=False)  # as a relay runs: loopback is private


def credentials(dovecot, smtp_port=0):
    return account_credentials.parse(settings_for(dovecot, smtp_port=smtp_port))


def test_imap_gets_no_password_at_an_address_the_rule_refuses(dovecot):
    dovecot.add_user(ADDRESS, PASSWORD)
    before = len(dovecot.log())
    with pytest.raises(AuthFailure, match=r"private address \(127\.0\.0\.1\)"):
        Connection.open(credentials(dovecot), PASSWORD, 5, REFUSING)
    assert "Login:" not in dovecot.log()[before:]
    Connection.open(credentials(dovecot), PASSWORD, 5, destinations.Rule(allow_private=True)).abort()
    assert "Login:" in dovecot.log()[before:]  # what a login leaves in the log


def test_smtp_gets_no_password_nor_mail_at_an_address_the_rule_refuses(dovecot, smtp_factory):  # noqa: F811
    peer, port = smtp_factory()
    settings = credentials(dovecot, smtp_port=port)
    raw = b"From: amani@example.org\r\nTo: friend@example.com\r\nSubject: x\r\n\r\nhi\r\n"
    with pytest.raises(PermanentFailure, match=r"private address \(127\.0\.0\.1\)"):
        smtp_send(raw, ADDRESS, ["friend@example.com"], "127.0.0.1", port, "none", 5,
                  login=_login(settings, PASSWORD, REFUSING))
    assert peer.logins == [] and peer.received == []
