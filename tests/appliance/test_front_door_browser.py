"""An attachment cannot pass for the box's own script: tried in headless Chromium (issue 14, 8)."""

import re

from tests.appliance.conftest import DOMAIN
from tests.appliance.test_browser import open_message, sign_in

SCRIPT = b"window.attachmentRan = true;"
LOAD = """src => new Promise(done => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => done("ran");
    script.onerror = () => done("refused");
    document.head.appendChild(script);
})"""


def test_a_script_tag_pointing_at_an_attachment_does_not_run(new_page, make_user, client):
    make_user("asha"), make_user("baraka")
    sent = client("asha").post("/compose", data={"to": f"baraka@{DOMAIN}", "subject": "Tool",
                                                 "body": "see file", "action": "send"},
                               files={"files": ("tool.js", SCRIPT, "application/javascript")})
    assert sent.url.endswith("/folder/sent")
    page = new_page()
    sign_in(page, "baraka")
    open_message(page, "Tool")
    attachment = page.get_by_role("link", name="tool.js").get_attribute("href")
    assert re.fullmatch(r"/attachment/\d+", attachment)
    # As if markup had slipped into a page: script-src 'self' lets the box's own paths load...
    assert page.evaluate(LOAD, "/static/app.js") == "ran"
    # ...but an attachment comes as application/octet-stream with nosniff: never a script.
    assert page.evaluate(LOAD, attachment) == "refused"
    assert page.evaluate("window.attachmentRan === true") is False
