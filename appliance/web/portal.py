"""Captive portal: phones on the box's Wi-Fi open the mail page as a sign-in page.

On that Wi-Fi every DNS name resolves to the box (dnsmasq, see appliance.wifi),
so the connectivity check a phone makes on joining a network reaches this
server.  Any answer but the one the phone expects (Android: 204, Apple:
"Success", Windows: "Microsoft Connect Test") makes it show a sign-in page; a
redirect to the box's own address makes that page the mail client.

Mount with ``tornado.web.Application(portal.routes() + ...)`` (the rows need no dependencies).
"""

import ipaddress

import tornado.web

from appliance import http_headers

# The paths operating systems ask for; every host name reaches the box.
CHECK_PATHS = (
    r"/generate_204", r"/gen_204",  # Android, ChromeOS
    r"/hotspot-detect\.html", r"/library/test/success\.html",  # iOS, macOS
    r"/connecttest\.txt", r"/ncsi\.txt", r"/redirect",  # Windows
    r"/success\.txt", r"/canonical\.html",  # Firefox
    r"/check_network_status\.txt",  # KDE, GNOME
)


class ConnectivityCheckHandler(tornado.web.RequestHandler):
    """Answers a connectivity check with a redirect to the mail page."""

    def set_default_headers(self):
        http_headers.apply(self)

    def get(self):
        self.set_header("Cache-Control", "no-store")  # a cached answer would hide the portal
        self.redirect(box_url(self.request))

    head = get


def box_url(request):
    """The mail page at the address the request came in on, whatever host it named."""
    host, port = request.connection.stream.socket.getsockname()[:2]
    if ipaddress.ip_address(host.split("%")[0]).version == 6:
        host = f"[{host}]"
    return f"http://{host}/" if port == 80 else f"http://{host}:{port}/"


def routes():
    """The connectivity-check routes, to put before the application's own."""
    return [(path, ConnectivityCheckHandler) for path in CHECK_PATHS]
