"""The security headers on every answer of the box: pages, API answers, errors, files, static
files, redirects."""

import tornado.web

# Nothing from outside the box, no inline script or style, no framing, forms only to the box.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",  # a file is only ever what its Content-Type says
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def apply(handler):
    for name, value in HEADERS.items():
        handler.set_header(name, value)
    handler.clear_header("Server")  # which Tornado answers is nobody's business


class StaticHandler(tornado.web.StaticFileHandler):
    """The box's CSS and script, with the same headers as its pages (and cached as usual)."""

    def set_default_headers(self):
        apply(self)
