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


TRANSFORMS = [GzipWhereItPays, LeanHead]
