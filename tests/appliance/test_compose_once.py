"""Compose without JavaScript: one form makes one message however often it is posted, and
reopens what it saved; each recipient's fate on its own; the inbox in order of arrival."""

import html
import re
import time

from appliance.store import mailbox, outbox
from pouch.records import MessageRecord, StatusRecord
from tests.appliance.conftest import DOMAIN

TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{32})"')


def new_form(session, query=""):
    """The compose page as a browser opens it: its address names the form's token."""
    page = session.get("/compose" + query)
    token = TOKEN.search(page.text).group(1)
    assert f"form={token}" in page.url
    return token


def subjects(store, user, folder):
    with store.read() as conn:
        return [row["subject"] for row in mailbox.list_folder(conn, user["id"], folder)[0]]


def test_the_same_form_posted_twice_makes_one_message(client, make_user, store):
    asha, baraka = make_user("asha"), make_user("baraka")
    session = client("asha")
    form = {"form_token": new_form(session), "to": f"baraka@{DOMAIN}", "subject": "Once", "body": "Hi",
            "action": "send"}
    first, again = session.post("/compose", data=form), session.post("/compose", data=form)
    assert first.url.endswith("/folder/sent") and again.url.endswith("/folder/sent")
    assert subjects(store, baraka, "inbox") == ["Once"] and subjects(store, asha, "sent") == ["Once"]


def test_back_then_send_after_an_autosave_sends_nothing_more(client, make_user, store):
    make_user("asha")
    session = client("asha")
    token = new_form(session)
    form = {"form_token": token, "to": "friend@example.org", "subject": "Far", "body": "Hello"}
    draft_id = session.post("/compose", data={**form, "action": "autosave"}).json()["draft_id"]
    session.post("/compose", data={**form, "draft_id": draft_id, "action": "send"})
    back = session.post("/compose", data={**form, "action": "send"})  # the page as Back showed it
    assert back.url.endswith("/folder/outbox")
    assert [record.subject for record in store.outbox()] == ["Far"]
    reopened = session.get(f"/compose?form={token}")
    assert "This message was sent already." in reopened.text and 'name="form_token"' not in reopened.text


def test_reloading_a_saved_form_reopens_its_draft(client, make_user, store):
    asha = make_user("asha")
    session = client("asha")
    token = new_form(session)
    form = {"form_token": token, "to": "friend@example.org", "cc": "aunt@example.org", "subject": "Notes",
            "body": "First lines", "action": "draft"}
    saved = session.post("/compose", data=form)
    assert saved.url.endswith(f"/compose?form={token}&saved=1")
    reloaded = session.get(f"/compose?form={token}").text
    assert 'value="Notes"' in reloaded and "First lines" in reloaded and 'value="aunt@example.org"' in reloaded
    assert "<details class=\"copies\" open>" in reloaded  # Cc shown, not folded away
    session.post("/compose", data={**form, "body": "More lines"})
    assert subjects(store, asha, "drafts") == ["Notes"]
    assert "More lines" in session.get(f"/compose?form={token}").text


def test_each_recipient_has_its_own_fate_in_the_senders_language(client, make_user, store):
    asha, _baraka = make_user("asha"), make_user("baraka")
    session = client("asha")
    session.post("/settings", data={"action": "language", "language": "fr"})
    session.post("/compose", data={"form_token": new_form(session), "to": f"baraka@{DOMAIN}, far@example.org",
                                   "subject": "Both", "action": "send"})
    [record] = store.outbox()
    with store.write() as conn:
        outbox.mark_uploaded(conn, [record.id])
        outbox.apply_status(conn, StatusRecord(message_id=record.id, state="failed", at=int(time.time()),
                                               reason="[Errno 111] Connection refused"))
        thread_id = mailbox.list_folder(conn, asha["id"], "sent")[0][0]["thread_id"]
    page = html.unescape(session.get(f"/thread/{thread_id}").text)
    fates = re.sub(r"\s+", " ", re.search(r'<ul class="fates">(.*?)</ul>', page, re.S).group(1))
    assert f"baraka@{DOMAIN}: <span class=\"state ok\">Remis sur la boîte</span>" in fates
    assert ("far@example.org: <span class=\"state bad\">Non distribué: Le relais n'a pas pu joindre le serveur "
            "de messagerie du destinataire. ([Errno 111] Connection refused)") in fates


def test_the_inbox_goes_by_arrival_on_the_box_and_shows_the_written_date(client, make_user, store):
    make_user("asha")
    session = client("asha")
    for record_id, subject, written in (("new", "Written today", int(time.time())),
                                        ("old", "Written in 2019", 1_560_000_000)):  # synced later
        store.deliver_incoming(MessageRecord(id=record_id, from_=[("", "a@example.org")], subject=subject,
                                             date=written, recipients=[f"asha@{DOMAIN}"]), {})
    inbox = session.get("/").text
    assert inbox.index("Written in 2019") < inbox.index("Written today")
    assert re.search(r"<time>\d+ \w+\.? 2019</time>", inbox)
