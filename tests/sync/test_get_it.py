"""Big attachments on request, end to end (issue 16): internet mail with an attachment over the
box's automatic limit reaches the box as a placeholder; "Get it" on the message page rides the
next sync's upload and the bytes come down in that sync; the download is the original file.
A phone photo comes shrunk, and its original the same way.  A real relay (Azurite, SendGrid stand-in), a real box and its web pages; each sync's bytes counted."""

import html
import json
import os
import re
import time

import pytest

from pouch import images, limits
from relay import retention
from tests.relay.conftest import email_bytes
from tests.support.photos import phone_photo
from tests.sync.test_admin_page import signed_in_on_sync_pages

SURVEY = os.urandom(3 * limits.ATTACHMENT_LIMIT_DEFAULT)  # does not compress: its bytes show in the figures


async def thread_page(browser):
    inbox = (await browser.get("/")).text
    thread_url = re.search(r'href="(/thread/\d+)#m\d+"', inbox).group(1)
    return (await browser.get(thread_url)).text


@pytest.mark.gen_test(timeout=120)
async def test_get_it_brings_a_held_attachment_with_the_next_sync(relay, make_box):
    goma = await make_box("goma")
    marie, amani = goma.user("marie"), goma.user("amani")
    to = ["marie@goma.relay.test", "amani@goma.relay.test"]
    raw = email_bytes(to, subject="The survey", attachments=[("survey.pdf", "application/pdf", SURVEY)])
    assert (await relay.webhook({"email": raw, "envelope": json.dumps({"to": to})})).code == 200

    first = await goma.sync()
    assert first.ok and first.messages_down == 1, first.error
    assert first.wire_bytes_down < len(SURVEY) // 10  # the placeholder came, not the bytes
    async with signed_in_on_sync_pages(goma, marie) as browser:
        page = await thread_page(browser)
        assert "survey.pdf" in page and "application/pdf" in page and "600.0 KB" in page
        assert re.findall(r'href="/attachment/\d+"', page) == []
        asked = await browser.post(re.search(r'action="(/attachment/\d+/get)"', page).group(1))
        assert "asked for, coming with the next sync" in asked.text
    async with signed_in_on_sync_pages(goma, amani) as browser:  # one request for both
        assert "asked for, coming with the next sync" in await thread_page(browser)

    second = await goma.sync()
    assert second.ok, second.error
    assert second.blob_bytes_up < 400  # the request: a small pouch of a few dozen bytes' record
    assert second.wire_bytes_up < len(SURVEY) // 100  # with the HTTP requests of the sync
    assert len(SURVEY) < second.wire_bytes_down < len(SURVEY) + 20_000
    async with signed_in_on_sync_pages(goma, amani) as browser:
        page = await thread_page(browser)
        assert "asked for" not in page and "Get it" not in page
        download = await browser.get(re.search(r'href="(/attachment/\d+)"', page).group(1))
        assert download.content == SURVEY

    third = await goma.sync()  # nothing more is owed either way
    assert third.ok and third.wire_bytes_down < 5000 and third.messages_down == 0, third.error
    print(f"wire bytes: placeholder sync {first.wire_bytes_down} down; Get it's sync {second.wire_bytes_up} up "
          f"(pouch {second.blob_bytes_up}), {second.wire_bytes_down} down (attachment {len(SURVEY)}); "
          f"idle sync {third.wire_bytes_up} up, {third.wire_bytes_down} down")


@pytest.mark.gen_test(timeout=120)
async def test_a_phone_photo_comes_shrunk_and_its_original_on_request(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    photo = phone_photo()
    raw = email_bytes("marie@goma.relay.test", subject="The new well",
                      attachments=[("well.jpg", "image/jpeg", photo)])
    assert (await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})).code == 200

    first = await goma.sync()
    assert first.ok and first.wire_bytes_down < len(photo) // 2, first.error
    async with signed_in_on_sync_pages(goma, marie) as browser:
        page = await thread_page(browser)
        shrunk = (await browser.get(re.search(r'href="(/attachment/\d+)"', page).group(1))).content
        assert 1280 <= images.long_side(shrunk) <= images.PHONE_SIDE and len(shrunk) < len(photo)
        asked = await browser.post(re.search(r'action="(/attachment/\d+/get-original)"', page).group(1))
        assert "original asked for, coming with the next sync" in asked.text

    second = await goma.sync()
    assert second.ok and len(photo) < second.wire_bytes_down, second.error
    async with signed_in_on_sync_pages(goma, marie) as browser:
        page = await thread_page(browser)
        link = re.search(r'href="(/attachment/\d+/original)" download>original \(([\d.]+ MB)\)', page)
        assert (await browser.get(link.group(1))).content == photo
    print(f"wire bytes down: shrunk photo's sync {first.wire_bytes_down}, the original's {second.wire_bytes_down} "
          f"(original {len(photo)}, shrunk {len(shrunk)})")


async def thread_pages(browser):
    """{subject: page} of every thread in the inbox."""
    inbox = (await browser.get("/")).text
    pages = {}
    for url in dict.fromkeys(re.findall(r'href="(/thread/\d+)#m\d+"', inbox)):
        page = (await browser.get(url)).text
        pages[re.search(r"<title>([^<]*?)(?: [-–·|] [^<]*)?</title>", page).group(1)] = page
    return pages


@pytest.mark.gen_test(timeout=120)
async def test_get_it_for_bytes_the_relay_cleared_says_why_and_the_request_beside_it_comes(relay, make_box):
    goma = await make_box("goma")
    marie = goma.user("marie")
    old, new = os.urandom(len(SURVEY)), os.urandom(len(SURVEY))
    for subject, data in (("Old survey", old), ("New survey", new)):
        raw = email_bytes("marie@goma.relay.test", subject=subject,
                          attachments=[(f"{subject.split()[0].lower()}.pdf", "application/pdf", data)])
        assert (await relay.webhook({"email": raw, "envelope": json.dumps({"to": ["marie@goma.relay.test"]})})
                ).code == 200
    first = await goma.sync()
    assert first.ok and first.messages_down == 2, first.error
    # The relay's retention clears the older message's bytes (the box had acked it) before anyone asks.
    assert retention.clear_some(relay.engine, keep_days=0, now=time.time() + 5, limit=1) == 1

    async with signed_in_on_sync_pages(goma, marie) as browser:
        for subject, page in (await thread_pages(browser)).items():
            asked = await browser.post(re.search(r'action="(/attachment/\d+/get)"', page).group(1))
            assert "asked for, coming with the next sync" in asked.text, subject

    second = await goma.sync()
    assert second.ok and len(new) < second.wire_bytes_down, second.error
    async with signed_in_on_sync_pages(goma, marie) as browser:
        pages = await thread_pages(browser)
        assert "asked for" not in pages["Old survey"]
        assert ("The relay could not bring it: the relay no longer keeps this message's attachments "
                "(its retention period is over)") in html.unescape(pages["Old survey"])
        assert "Get it" in pages["Old survey"]  # asking again stays possible (and is answered again)
        download = await browser.get(re.search(r'href="(/attachment/\d+)"', pages["New survey"]).group(1))
        assert download.content == new
