"""Gzip for the relay's answers, where it pays: a box's offer of a long day of pouches is JSON
of several KB, most of it names and URLs that repeat.  Tornado's own transform also adds
``Vary: Accept-Encoding`` to every answer, a pouch's blocks too, which it never compresses:
23 bytes a request over the modem.  This one leaves the header on what it compresses only."""

import tornado.web

VARY = "Accept-Encoding"


class GzipWhereItPays(tornado.web.GZipContentEncoding):
    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        status_code, headers, chunk = super().transform_first_chunk(status_code, headers, chunk, finishing)
        if not self._gzipping:  # Tornado's own decision (type, size): not compressed, nothing varies
            others = [value.strip() for value in headers.get("Vary", "").split(",") if value.strip() != VARY]
            del headers["Vary"]
            if any(others):
                headers["Vary"] = ", ".join(value for value in others if value)
        return status_code, headers, chunk
