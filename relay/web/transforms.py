"""What every answer of the relay goes through on its way out: gzip where it pays, and no
``Server`` header.  Which software answers is nobody's business, and its 28 bytes cross the
modem on every request of a sync (the offer, each pouch's blocks, the ack)."""

import tornado.web

from relay.web.compression import GzipWhereItPays


class NoServerName(tornado.web.OutputTransform):
    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        headers.pop("Server", None)
        return status_code, headers, chunk


TRANSFORMS = [GzipWhereItPays, NoServerName]
