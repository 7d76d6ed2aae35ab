"""Phones joining the box's Wi-Fi are sent to the mail page as a sign-in page."""

import pytest
import tornado.web

from appliance.web import portal

# What each system asks for, from which host, and the reply that would mean
# "online, no sign-in page" (which the box must never give).
CHECKS = [
    ("connectivitycheck.gstatic.com", "/generate_204", 204, b""),  # Android
    ("www.gstatic.com", "/gen_204", 204, b""),  # ChromeOS
    ("captive.apple.com", "/hotspot-detect.html", 200, b"Success"),  # iOS, macOS
    ("www.msftconnecttest.com", "/connecttest.txt", 200, b"Microsoft Connect Test"),  # Windows
    ("www.msftncsi.com", "/ncsi.txt", 200, b"Microsoft NCSI"),  # older Windows
    ("detectportal.firefox.com", "/success.txt", 200, b"success"),  # Firefox
]


class MailPage(tornado.web.RequestHandler):
    def get(self):
        self.write("inbox")


@pytest.fixture
def app():
    return tornado.web.Application(portal.routes() + [(r"/", MailPage)])


@pytest.mark.parametrize("host, path, online_code, online_body", CHECKS)
@pytest.mark.gen_test(timeout=10)
async def test_connectivity_checks_lead_to_the_mail_page(
        http_client, base_url, http_port, host, path, online_code, online_body):
    response = await http_client.fetch(base_url + path, headers={"Host": host},
                                       follow_redirects=False, raise_error=False)
    assert response.code == 302
    assert response.headers["Location"] == f"http://127.0.0.1:{http_port}/"
    assert response.headers["Cache-Control"] == "no-store"
    assert online_body == b"" or online_body not in response.body

    followed = await http_client.fetch(base_url + path, headers={"Host": host}, raise_error=False)
    assert followed.code == 200 and followed.body == b"inbox"


@pytest.mark.gen_test(timeout=10)
async def test_the_box_own_pages_are_not_redirected(http_client, base_url):
    response = await http_client.fetch(base_url + "/", follow_redirects=False)
    assert response.code == 200 and response.body == b"inbox"
