"""Spam end to end (issue #16): a real relay scoring with a real spamd, a real box.  Spam is held on
the relay; the box lists it in "Held as spam" for its recipient only; "Bring it" rides the next
upload and the message comes down in that sync; a "Spam" verdict and the admin's settings reach
the relay the same way."""

import re

import pytest
import sqlalchemy as sa

from appliance.store.messages import INBOX, TRASH
from relay.schema import boxes
from tests.relay.conftest import deliver
from tests.relay.test_spam import GTUBE
from tests.sync.test_admin_page import signed_in_on_sync_pages

ASKED = "asked for, coming with the next sync"


@pytest.fixture
def relay_overrides(relay_overrides, spamd):
    return {**relay_overrides, "spam_enabled": True, "spam_host": spamd.host, "spam_port": spamd.port}


def subjects(rows):
    return sorted(row["subject"] for row in rows)


@pytest.mark.gen_test(timeout=120)
async def test_spam_is_held_listed_for_its_recipient_brought_by_the_button_and_arrives(relay, make_box):
    goma = await make_box("goma")
    marie, jean = goma.user("marie"), goma.user("jean")
    await deliver(relay, marie["email"], subject="You won a prize", body=f"Claim it now.\n{GTUBE}\n",
                  sender="prize@spam.example")
    await deliver(relay, marie["email"], subject="Dinner", body="Dinner at seven?")
    first = await goma.sync()
    assert first.ok and first.messages_down == 1, first.error
    assert subjects(goma.folder(marie, INBOX)) == ["Dinner"]

    async with signed_in_on_sync_pages(goma, jean) as browser:
        assert "You won a prize" not in (await browser.get("/folder/held")).text
    async with signed_in_on_sync_pages(goma, marie) as browser:
        page = (await browser.get("/folder/held")).text
        assert "You won a prize" in page and "prize@spam.example" in page
        [line] = re.findall(r'<li id="h(\d+)">', page)
        assert ASKED in (await browser.post(f"/held/{line}/bring")).text  # until the sync
        second = await goma.sync()  # the request goes up, and the message comes down
        assert second.ok and second.messages_down == 1, second.error
        assert subjects(goma.folder(marie, INBOX)) == ["Dinner", "You won a prize"]
        assert "You won a prize" not in (await browser.get("/folder/held")).text
    third = await goma.sync()
    assert third.ok and third.messages_down == 0, third.error  # brought once


@pytest.mark.gen_test(timeout=120)
async def test_a_spam_verdict_and_the_admins_settings_reach_the_relay(relay, make_box, spamd):
    bunia = await make_box("bunia")
    admin, amani = bunia.user("mama", is_admin=True), bunia.user("amani")
    await deliver(relay, amani["email"], subject="Cheap watches", body="Best replica watches, cheap and fast.")
    assert (await bunia.sync()).ok
    [watches] = bunia.folder(amani, INBOX)
    async with signed_in_on_sync_pages(bunia, amani) as browser:
        await browser.post(f"/message/{watches['id']}/spam", next="/")
    assert subjects(bunia.folder(amani, TRASH)) == ["Cheap watches"]
    async with signed_in_on_sync_pages(bunia, admin) as browser:
        await browser.post("/admin/downloads", spam_threshold="8", attachment_limit_kb="120")
    before = spamd.learnt("bunia")
    assert (await bunia.sync()).ok
    with relay.engine.connect() as conn:
        row = conn.execute(sa.select(boxes.c.spam_threshold, boxes.c.attachment_limit)
                           .where(boxes.c.name == "bunia")).one()
    assert (row.spam_threshold, row.attachment_limit) == (8.0, 120 * 1024)
    assert spamd.learnt("bunia")["nspam"] == before["nspam"] + 1
