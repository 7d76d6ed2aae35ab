"""Where a box user's account settings may make the relay connect.

The host names come from box users, and a relay often runs beside services
that trust their own network (a database, a cloud metadata endpoint).  Unless
the operator allows it (``[accounts] allow_private_hosts``), a server whose
name resolves to any loopback, private, link-local or otherwise non-public
address is refused, and so is an OAuth2 token URL that is not https.  The
token fetch checks every redirect hop the same way, and the address each of
its connections reaches, so a name that changes its address after the check
(DNS rebinding) is caught too.
"""

import ipaddress
import socket
import urllib.parse

from relay.accounts.errors import AuthFailure

TOKEN_SERVER = "OAuth2 token server"


class Rule:
    """The private-address rule of one relay (``allow_private``: the operator lets it all through)."""

    def __init__(self, allow_private):
        self.allow_private = allow_private

    def refuses(self, host, port, address):
        """Whether to refuse connecting to ``address`` (``ip_address``), found for ``host``:``port``."""
        return not self.allow_private and (not address.is_global or address.is_multicast)

    def check_server(self, host, port, what):
        """AuthFailure, for the box user, if ``host`` resolves to an address the rule refuses."""
        address = self.first_refused(host, port)
        if address:
            raise AuthFailure(f"the {what} {host} is at a private address ({address}), which this relay "
                              "does not connect to; check the server name")

    def check_token_url(self, url, what=TOKEN_SERVER):
        """AuthFailure unless the relay may fetch ``url``: https, and at an address the rule allows."""
        if self.allow_private:
            return
        try:
            parts = urllib.parse.urlsplit(url)
            scheme, host, port = parts.scheme, parts.hostname, parts.port or 443
        except ValueError:  # a bracket or port that does not parse
            scheme = host = port = None
        if scheme != "https" or not host:
            raise AuthFailure("the OAuth2 token URL must be a URL that starts with https://; "
                              "enter the account again on the box")
        self.check_server(host, port, what)

    def first_refused(self, host, port):
        """The first address of ``host`` the rule refuses, or None (None too when it does not
        resolve: connecting then fails on its own, as a server that cannot be reached)."""
        for address in self.addresses(host, port):
            if self.refuses(host, port, address):
                return str(address)
        return None

    def addresses(self, host, port):
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, ValueError):
            return []
        return [_address(sockaddr) for *_, sockaddr in found]

    def connect(self, host_port, timeout=None, source_address=None):
        """``socket.create_connection``, refusing (AuthFailure) a peer the rule refuses."""
        sock = socket.create_connection(host_port, timeout, source_address)
        try:
            self.check_peer(*host_port, sock)
        except AuthFailure:
            sock.close()
            raise
        return sock

    def check_peer(self, host, port, sock):
        """AuthFailure if connected ``sock`` reached an address the rule refuses: the address
        connected to counts, whatever ``host`` resolved to when it was checked (DNS rebinding)."""
        address = _address(sock.getpeername())
        if self.refuses(host, port, address):
            raise AuthFailure(f"the server {host} is at a private address ({address}), which this "
                              "relay does not connect to; check the server name")


def check(credentials, allow_private):
    """AuthFailure, for the box user, if the settings point somewhere this relay does not go."""
    if allow_private:
        return
    rule = Rule(allow_private)
    rule.check_server(credentials.imap_host, credentials.imap_port, "IMAP server")
    if credentials.smtp_host:
        rule.check_server(credentials.smtp_host, credentials.smtp_port, "SMTP server")
    if credentials.auth == "xoauth2":
        rule.check_token_url(credentials.oauth["token_url"])


def _address(sockaddr):
    return ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
