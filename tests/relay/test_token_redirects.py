"""The OAuth2 token fetch checks every hop against the private-address rule, not only the
first: a provider (a local Tornado server) that redirects into the relay's own network is
refused before anything is sent there, and what a provider says when it refuses stays in
the relay's log."""

import asyncio
import logging
import socket
import urllib.parse

import pytest
import tornado.web
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from relay import settings as relay_settings
from relay.accounts import credentials as account_credentials, destinations
from relay.accounts.errors import AuthFailure, Unreachable
from relay.accounts.supervisor import Supervisor
from relay.outbound.accounts import AccountSender
from tests.relay.conftest import relay_environ

ACCESS_TOKEN = "access-1"
INTERNAL_DETAIL = "pg at 10.0.0.5: relation oauth_tokens does not exist"



class Redirect(tornado.web.RequestHandler):
    def initialize(self, status):
        self.status = status

    def post(self):
        self.redirect(self.get_query_argument("to"), status=self.status)


class Token(tornado.web.RequestHandler):
    def post(self):
        ok = self.get_body_argument("refresh_token", None) == "refresh-1"
        self.set_status(200 if ok else 400)
        self.write({"access_token": ACCESS_TOKEN, "expires_in": 3600} if ok
                   else {"error": "invalid_grant", "error_description": INTERNAL_DETAIL})


class Loop(tornado.web.RequestHandler):
    def post(self):
        self.redirect("/loop", status=307)


class ProviderOnly(destinations.Rule):
    """The rule as a relay runs it (private addresses refused, https only), except for the stand-in
    provider's own port: its first hop plays a public https server."""

    def __init__(self, port):
        super().__init__(allow_private=False)
        self.port = port

    def refuses(self, host, port, address):
        return port != self.port and super().refuses(host, port, address)

    def check_token_url(self, url, what=destinations.TOKEN_SERVER):
        if urllib.parse.urlsplit(url).port != self.port:
            super().check_token_url(url, what)


class Rebinding(ProviderOnly):
    """A name that resolved to a public address when checked and reaches loopback when connected."""

    def addresses(self, host, port):
        return [destinations._address(("93.184.216.34", port))] if host == "localhost" else []


@pytest.fixture
def provider(io_loop):
    sock, port = bind_unused_port()
    app = tornado.web.Application([(r"/302", Redirect, {"status": 302}), (r"/307", Redirect, {"status": 307}),
                                   (r"/token", Token), (r"/loop", Loop)])
    server = HTTPServer(app)
    server.add_sockets([sock])
    yield f"http://127.0.0.1:{port}", port
    server.stop()


@pytest.fixture
def private_listener():
    """A port on loopback that counts who connects to it (nobody should)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def connections(listener):
    count = 0
    while True:
        try:
            listener.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def xoauth2(token_url, refresh_token="refresh-1"):
    return account_credentials.parse({
        "imap_host": "imap.example.org", "imap_port": 993, "imap_security": "tls", "username": "ami",
        "auth": "xoauth2", "oauth": {"token_url": token_url, "client_id": "box", "refresh_token": refresh_token}})


def tokens_for(rule):
    tokens = account_credentials.TokenSource(timeout_s=5)
    tokens.rule = rule
    return tokens


async def access_token(rule, token_url, **oauth):
    return await asyncio.to_thread(tokens_for(rule).secret, xoauth2(token_url, **oauth))


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.gen_test(timeout=30)
async def test_a_redirect_to_a_private_address_is_refused_before_connecting(provider, private_listener, status):
    base, port = provider
    private = f"https://127.0.0.1:{private_listener.getsockname()[1]}/token"
    for target in (private, "https://10.1.2.3/token", "https://[::1]/token", "https://169.254.169.254/"):
        with pytest.raises(AuthFailure, match=r"redirect to .* is at a private address"):
            await access_token(ProviderOnly(port), f"{base}/{status}?to={urllib.parse.quote(target)}")
    assert connections(private_listener) == 0


@pytest.mark.gen_test(timeout=30)
async def test_a_redirect_away_from_https_is_refused(provider):
    base, port = provider
    with pytest.raises(AuthFailure, match="must be a URL that starts with https://"):
        await access_token(ProviderOnly(port), f"{base}/302?to=http://93.184.216.34/token")


@pytest.mark.gen_test(timeout=30)
async def test_redirects_the_rule_allows_are_followed_a_few_times_at_most(provider):
    base, port = provider
    # 307 keeps the POST and its form: the provider's own token endpoint answers.
    assert await access_token(ProviderOnly(port), f"{base}/307?to=/token") == ACCESS_TOKEN
    with pytest.raises(Unreachable, match="redirected more than 5 times"):
        await access_token(ProviderOnly(port), f"{base}/loop")


@pytest.mark.gen_test(timeout=30)
async def test_a_name_that_rebinds_to_a_private_address_is_refused_at_connect_time(provider, private_listener):
    base, port = provider
    rebound = f"https://localhost:{private_listener.getsockname()[1]}/token"
    with pytest.raises(AuthFailure, match=r"private address \(127\.0\.0\.1\)"):
        await access_token(Rebinding(port), f"{base}/302?to={urllib.parse.quote(rebound)}")
    # Closed as soon as it was made, before TLS: not a byte reached the private address.
    connection, _ = private_listener.accept()
    connection.settimeout(5)
    assert connection.recv(1024) == b""
    connection.close()


@pytest.mark.gen_test(timeout=30)
async def test_the_providers_refusal_reaches_the_box_user_as_our_own_short_reason(provider, caplog):
    base, port = provider
    caplog.set_level(logging.WARNING, logger="relay.accounts.credentials")
    with pytest.raises(AuthFailure) as refused:
        await access_token(ProviderOnly(port), f"{base}/token", refresh_token="revoked")
    assert "refused the account's OAuth2 refresh token (HTTP 400)" in str(refused.value)
    assert "10.0.0.5" not in str(refused.value) and "oauth_tokens" not in str(refused.value)
    assert INTERNAL_DETAIL in caplog.text  # for the operator


@pytest.mark.parametrize("allowed", [False, True])
def test_the_relays_setting_reaches_the_token_fetch(tmp_path, allowed):
    settings = relay_settings.load(environ=relay_environ(
        tmp_path, f"sqlite:///{tmp_path / 'relay.db'}", 8081, accounts_allow_private_hosts=allowed))
    assert Supervisor(None, settings).tokens.rule.allow_private is allowed
    assert AccountSender(None, settings).tokens.rule.allow_private is allowed
