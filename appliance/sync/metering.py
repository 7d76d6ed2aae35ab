"""Counting what a sync costs on the wire: HTTP heads and bodies each way, and
TLS records, as curl hands them over (so a request cut off midway counts what
it carried).  TCP/IP framing, a few percent more, is not seen from here."""

from dataclasses import dataclass

import pycurl
import tornado.httpclient

# curl's debug callback kinds: what went in, what went out.
RECEIVED = {pycurl.INFOTYPE_HEADER_IN, pycurl.INFOTYPE_DATA_IN, pycurl.INFOTYPE_SSL_DATA_IN}
SENT = {pycurl.INFOTYPE_HEADER_OUT, pycurl.INFOTYPE_DATA_OUT, pycurl.INFOTYPE_SSL_DATA_OUT}


@dataclass
class WireCount:
    sent: int = 0
    received: int = 0
    requests: int = 0

    def debug(self, kind, data):
        if kind in SENT:
            self.sent += len(data)
        elif kind in RECEIVED:
            self.received += len(data)


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
            if chained is not None:
                chained(curl)

        request.prepare_curl_callback = meter
        self.wire.requests += 1
        return await self.http.fetch(request, **options)

    def close(self):
        self.http.close()
