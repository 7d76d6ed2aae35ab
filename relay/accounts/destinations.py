"""Where a box user's account settings may make the relay connect.

The host names come from box users, and a relay often runs beside services
that trust their own network (a database, a cloud metadata endpoint).  Unless
the operator allows it (``[accounts] allow_private_hosts``), a server whose
name resolves to any loopback, private, link-local or otherwise non-public
address is refused, and so is an OAuth2 token URL that is not https.  A name
that changes its address between this check and the connection is not caught.
"""

import ipaddress
import socket
import urllib.parse

from relay.accounts.errors import AuthFailure


def check(credentials, allow_private):
    """AuthFailure, for the box user, if the settings point somewhere this relay does not go."""
    if allow_private:
        return
    servers = [(credentials.imap_host, credentials.imap_port, "IMAP server")]
    if credentials.smtp_host:
        servers.append((credentials.smtp_host, credentials.smtp_port, "SMTP server"))
    if credentials.auth == "xoauth2":
        servers.append(_token_server(credentials.oauth["token_url"]))
    for host, port, what in servers:
        address = _first_private(host, port)
        if address:
            raise AuthFailure(f"the {what} {host} is at a private address ({address}), which this relay "
                              "does not connect to; check the server name")


def _token_server(token_url):
    try:
        url = urllib.parse.urlsplit(token_url)
        scheme, host, port = url.scheme, url.hostname, url.port or 443
    except ValueError:  # a bracket or port that does not parse
        scheme = host = port = None
    if scheme != "https" or not host:
        raise AuthFailure("the OAuth2 token URL must be a URL that starts with https://; "
                          "enter the account again on the box")
    return host, port, "OAuth2 token server"


def _first_private(host, port):
    """The first non-public address ``host`` resolves to, or None (None too when it does not
    resolve: connecting then fails on its own, as a server that cannot be reached)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return None
