"""A date is never a reason to lose mail: mail dated 1969, 2200, without a Date or with one
that does not read goes webhook -> relay -> box and shows in the inbox with a sensible date."""

import json
import re
import time

import pytest

from tests.relay.conftest import email_bytes
from tests.sync.test_admin_page import Browser, serve_box_with_sync_pages

DATES = {  # subject: (Date header or None, what the inbox shows)
    "Moon landing": ("Sun, 20 Jul 1969 20:17:40 +0000", "20 Jul 1969"),
    "From the future": ("Wed, 1 Jan 2200 10:00:00 +0000", "1 Jan 2200"),
    "No date at all": (None, "today"),
    "A date that does not read": ("the day after tomorrow, at noon", "today"),
}


def dated(to, subject, date):
    raw = email_bytes(to, subject=subject, body=f"{subject}.")
    return (f"Date: {date}\n".encode() if date else b"") + raw


@pytest.mark.gen_test(timeout=90)
async def test_mail_of_any_date_arrives_and_shows_with_a_sensible_date(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    for subject, (date, _) in DATES.items():
        raw = dated("marie@goma.relay.test", subject, date)
        answer = await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
        assert answer.code == 200, answer.body
    result = await goma.sync()
    assert result.ok and result.messages_down == len(DATES), result.error

    server, url = serve_box_with_sync_pages(goma, scheduler=None)
    try:
        browser = Browser(url)
        await browser.sign_in(marie["email"])
        inbox = await browser.get("/")
        assert inbox.status_code == 200
        shown = re.findall(r'<time>([^<]*)</time>\s*<span class="subject">([^<]*)', inbox.text)
        today = time.strftime("%-d %b %Y", time.gmtime())  # the box's zone is UTC
        print("\ninbox:", shown)
        assert {subject.strip() for _, subject in shown} == set(DATES)
        for when, subject in shown:
            expected = DATES[subject.strip()][1]
            assert re.fullmatch(r"\d\d:\d\d", when) if expected == "today" else when == expected, (subject, when)
        # The inbox goes by arrival on the box, newest first, whatever the written date says.
        assert [subject.strip() for _, subject in shown] == list(reversed(DATES))
        for link in re.findall(r'href="(/thread/\d+)#m\d+"', inbox.text):
            page = await browser.get(link)
            assert page.status_code == 200
            [when] = re.findall(r"<time>([^<]*)</time>", page.text)
            subject = next(s for s in DATES if s in page.text)
            expected = DATES[subject][1]
            assert when.startswith(today if expected == "today" else expected), (subject, when)
    finally:
        server.stop()
