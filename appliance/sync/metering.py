"""Counting what a sync costs on the wire, each way.

Where the kernel says (Linux's TCP_INFO), the count is the TCP payload of the sync's
connections: every HTTP head and body, every TLS record and handshake, retransmissions
included.  Elsewhere it is what curl's debug callback hands over: HTTP heads and bodies, and
TLS handshakes only where curl's TLS library reports them; Debian's python3-pycurl is built on
GnuTLS, which reports none (some 4 KB a sync the admin's page would not see).  Either way a
request cut off midway counts what it carried; IP and TCP headers, a few percent more, are not
seen from here."""

import socket
import struct
from dataclasses import dataclass, field

import pycurl
import tornado.httpclient

# curl's debug callback kinds: what went in, what went out.
RECEIVED = {pycurl.INFOTYPE_HEADER_IN, pycurl.INFOTYPE_DATA_IN, pycurl.INFOTYPE_SSL_DATA_IN}
SENT = {pycurl.INFOTYPE_HEADER_OUT, pycurl.INFOTYPE_DATA_OUT, pycurl.INFOTYPE_SSL_DATA_OUT}


# struct tcp_info (linux/tcp.h, which only appends): tcpi_bytes_received (Linux 4.1) and
# tcpi_bytes_sent (4.19: retransmissions included, what the modem carried).
TCP_INFO_BYTES = 256
BYTES_RECEIVED, BYTES_SENT = 128, 200


def tcp_bytes(sock):
    """(sent, received) payload bytes of TCP socket ``sock`` so far; None where the kernel
    does not say."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_BYTES)
    except (AttributeError, OSError):  # not Linux, or not a TCP socket
        return None
    if len(info) < BYTES_SENT + 8:
        return None
    return struct.unpack_from("=Q", info, BYTES_SENT)[0], struct.unpack_from("=Q", info, BYTES_RECEIVED)[0]


@dataclass
class WireCount:
    sent: int = 0
    received: int = 0
    requests: int = 0
    sockets: list = field(default_factory=list)  # a copy of each connection's socket, to read at the end

    def debug(self, kind, data):
        if kind in SENT:
            self.sent += len(data)
        elif kind in RECEIVED:
            self.received += len(data)

    def open_socket(self, purpose, address):
        """curl's OPENSOCKETFUNCTION: pycurl hands curl a duplicate, this one stays to be read."""
        opened = socket.socket(address.family, address.socktype, address.protocol)
        self.sockets.append(opened)
        return opened

    def settle(self):
        """Once the sync is over: its connections' TCP counts where every one of them says,
        else curl's; the copies kept are let go (curl closes its own)."""
        counted = [tcp_bytes(kept) for kept in self.sockets]
        for kept in self.sockets:
            kept.close()
        self.sockets.clear()
        if counted and None not in counted:
            self.sent, self.received = map(sum, zip(*counted))


class MeteredClient:
    """Wraps a CurlAsyncHTTPClient; ``fetch`` as usual, ``wire`` adds up every request."""

    def __init__(self, http):
        self.http = http
        self.wire = WireCount()

    async def fetch(self, request, **options):
        if not isinstance(request, tornado.httpclient.HTTPRequest):
            request = tornado.httpclient.HTTPRequest(request, **{
                key: options.pop(key) for key in list(options) if key != "raise_error"})
        chained = request.prepare_curl_callback

        def meter(curl):  # per request: tornado resets each handle after use
            curl.setopt(pycurl.VERBOSE, 1)
            curl.setopt(pycurl.DEBUGFUNCTION, self.wire.debug)
            curl.setopt(pycurl.OPENSOCKETFUNCTION, self.wire.open_socket)
            if chained is not None:
                chained(curl)

        request.prepare_curl_callback = meter
        self.wire.requests += 1
        return await self.http.fetch(request, **options)

    def close(self):
        self.http.close()
