"""What every answer of the relay goes through on its way out: gzip where it pays, and a head
without what no box reads.  Each request of a sync crosses a modem: the offer, each block of an
upload, each range of a pouch, the ack."""

import tornado.web

from relay.web.compression import GzipWhereItPays


class LeanHead(tornado.web.OutputTransform):
    """No ``Server`` (which software answers is nobody's business, and 28 bytes), and no
    ``Content-Type`` on an answer with no body (Tornado's text/html: 40 bytes an upload block)."""

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        headers.pop("Server", None)
        if finishing and not chunk:
            headers.pop("Content-Type", None)
        return status_code, headers, chunk


# Every answer a browser could be shown is locked down.  The box's own traffic (its sync API's
# and its blobs' answers that are not errors, read by curl, never rendered) carries none of it
# over the modem: 75 bytes an answer.
POLICY = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
          "X-Content-Type-Options": "nosniff"}
BOX_TRAFFIC = ("/api/v1/", "/blobs/")


class StrictPolicy(tornado.web.OutputTransform):
    """POLICY on every answer but the box's traffic; a page's own policy (the status page's) stays."""

    def __init__(self, request):
        self._box_traffic = request.path.startswith(BOX_TRAFFIC)

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if not (self._box_traffic and status_code < 400):
            for name, value in POLICY.items():
                headers.setdefault(name, value)
        return status_code, headers, chunk


TRANSFORMS = [GzipWhereItPays, LeanHead, StrictPolicy]
