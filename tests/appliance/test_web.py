"""The mail client over HTTP against a real server: accounts, mail, safety, isolation."""

import hashlib
import os
import re

import requests

from appliance.store import outbox, sync_state
from appliance.sync.importer import import_pouch
from pouch.container import PouchWriter
from pouch.records import STATUS_SENT, Attachment, BlobRecord, MessageRecord, StatusRecord
from tests.appliance.conftest import DOMAIN, PASSWORD


def sign_up(client, name, password=PASSWORD):
    session = client()
    response = session.post("/signup", data={"name": name, "display_name": name.title(),
                                             "password": password, "password2": password})
    return session, response


def test_sign_up_sign_in_and_out(client, make_user):
    session, response = sign_up(client, "amani")
    assert response.status_code == 200 and "amani@" + DOMAIN in response.text
    again, refused = sign_up(client, "amani")
    assert refused.status_code == 400 and "already taken" in refused.text
    session.post("/logout")
    assert session.get("/").url.endswith("/login?next=%2F")
    session.sign_in("amani")
    assert "Inbox" in session.get("/").text


def test_repeated_failed_sign_ins_slow_down(client, make_user):
    make_user("neema")
    session = client()
    for _ in range(3):
        wrong = session.post("/login", data={"email": "neema", "password": "not it at all"})
        assert wrong.status_code == 403
    session.post("/login", data={"email": "neema", "password": "not it either"})
    blocked = session.post("/login", data={"email": "neema", "password": PASSWORD})
    assert blocked.status_code == 429 and "Wait" in blocked.text


def test_forms_without_the_xsrf_token_are_refused(client, make_user, box_url):
    make_user("juma")
    session = client("juma")
    response = session.post("/compose", data={"to": "juma@" + DOMAIN, "subject": "x", "_xsrf": "forged"})
    assert response.status_code == 403
    bare = requests.post(box_url + "/login", data={"email": "juma", "password": PASSWORD}, timeout=10)
    assert bare.status_code == 403


def test_local_mail_with_attachment_arrives_and_outside_mail_waits(client, make_user, store):
    make_user("asha"), make_user("baraka")
    asha, baraka = client("asha"), client("baraka")
    sent = asha.post("/compose", data={"to": "baraka@" + DOMAIN, "subject": "Photos", "body": "Here",
                                       "action": "send"},
                     files={"files": ("list.txt", b"one\ntwo\n", "text/plain")})
    assert sent.url.endswith("/folder/sent") and "Photos" in sent.text
    inbox = baraka.get("/").text
    assert "Photos" in inbox
    thread_url = re.search(r'href="(/thread/\d+)#m\d+"', inbox).group(1)
    thread = baraka.get(thread_url).text
    attachment_url = re.search(r'href="(/attachment/\d+)"', thread).group(1)
    download = baraka.get(attachment_url)
    assert download.content == b"one\ntwo\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in download.headers["Content-Security-Policy"]
    # Another user guessing the ids gets nothing.
    make_user("eve")
    eve = client("eve")
    assert eve.get(thread_url).status_code == 404
    assert eve.get(attachment_url).status_code == 404
    outside = asha.post("/compose", data={"to": "friend@example.org", "subject": "Far away",
                                          "action": "send"})
    assert outside.url.endswith("/folder/outbox") and "Far away" in outside.text
    assert [record.subject for record in store.outbox()] == ["Far away"]


def test_a_refused_message_keeps_what_was_written(client, make_user):
    make_user("asha")
    asha = client("asha")
    response = asha.post("/compose", data={"to": "nobody@" + DOMAIN, "subject": "Keep me",
                                           "body": "A long letter", "action": "send"})
    assert response.status_code == 400
    assert "No one on this box" in response.text
    assert 'value="Keep me"' in response.text and "A long letter" in response.text


def test_drafts_save_and_send_later(client, make_user):
    make_user("asha"), make_user("baraka")
    asha = client("asha")
    saved = asha.post("/compose", data={"to": "baraka@", "subject": "Later", "body": "draft text",
                                        "action": "draft"})
    assert "Draft saved" in saved.text and 'value="baraka@"' in saved.text
    draft_id = re.search(r'name="draft_id" value="(\d+)"', saved.text).group(1)
    assert "Later" in asha.get("/folder/drafts").text
    make_user("eve")
    eve = client("eve")
    assert eve.get(f"/compose?draft={draft_id}").status_code == 404
    overwrite = eve.post("/compose", data={"draft_id": draft_id, "subject": "Mine now", "action": "draft"})
    assert overwrite.status_code == 400 and "no longer exists" in overwrite.text
    asha.post("/compose", data={"to": "baraka@" + DOMAIN, "subject": "Later", "body": "final",
                                "draft_id": draft_id, "action": "send"})
    assert "Later" not in asha.get("/folder/drafts").text
    assert "Later" in client("baraka").get("/").text


def test_admin_suspends_and_re_enables_a_user(client, make_user):
    make_user("mama", is_admin=True), make_user("kito")
    admin, kito = client("mama"), client("kito")
    page = admin.get("/admin/users").text
    kito_id = re.search(r'<td>kito@.*?name="user_id" value="(\d+)"', page, re.S).group(1)
    admin.post("/admin/users", data={"user_id": kito_id, "action": "suspend"})
    assert kito.get("/").url.endswith("/login?next=%2F")  # the open session ends too
    refused = client().post("/login", data={"email": "kito", "password": PASSWORD})
    assert "suspended" in refused.text
    admin.post("/admin/users", data={"user_id": kito_id, "action": "enable"})
    assert client("kito").get("/admin/users").status_code == 403
    assert "Sync history" in admin.get("/admin/box").text


def test_admin_resets_a_forgotten_password(client, make_user):
    make_user("mama", is_admin=True), make_user("kito")
    admin = client("mama")
    page = admin.get("/admin/users").text
    kito_id = re.search(r'<td>kito@.*?name="user_id" value="(\d+)"', page, re.S).group(1)
    admin.post("/admin/users", data={"user_id": kito_id, "action": "password",
                                     "password": "a brand new one"})
    assert client().post("/login", data={"email": "kito", "password": PASSWORD}).status_code == 403
    assert client().post("/login", data={"email": "kito", "password": "a brand new one"}).url.endswith("/")


def test_changing_ones_password_ends_other_sessions(client, make_user):
    make_user("asha")
    phone, laptop = client("asha"), client("asha")
    changed = phone.post("/settings", data={"action": "password", "current": PASSWORD,
                                            "password": "another secret", "password2": "another secret"})
    assert "Password changed" in changed.text
    assert phone.get("/").url.endswith("/")  # this session goes on
    assert laptop.get("/").url.endswith("/login?next=%2F")


def test_a_phones_connectivity_check_lands_on_the_mail_client(box_url):
    answer = requests.get(box_url + "/generate_204", allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == box_url + "/"


def test_reply_all_answers_everyone_but_oneself(client, make_user):
    for name in ("asha", "baraka", "kito"):
        make_user(name)
    client("asha").post("/compose", data={"to": f"baraka@{DOMAIN}, zed@example.org",
                                          "cc": f"kito@{DOMAIN}", "subject": "Meeting", "action": "send"})
    baraka = client("baraka")
    message_id = re.search(r'href="/thread/\d+#m(\d+)"', baraka.get("/").text).group(1)
    form = baraka.get(f"/compose?reply_all={message_id}").text
    to = re.search(r'id="to" name="to" [^>]*value="([^"]*)"', form).group(1)
    cc = re.search(r'id="cc" name="cc" [^>]*value="([^"]*)"', form).group(1)
    assert "asha@" in to and "zed@example.org" in to and "baraka@" not in to
    assert "kito@" in cc and 'value="Re: Meeting"' in form


def test_malformed_requests_get_clear_answers_not_server_errors(client, make_user):
    make_user("mama", is_admin=True)
    admin = client("mama")
    answers = [admin.get("/thread/99999999999999999999999").status_code,
               admin.get("/compose?draft=abc").status_code,
               admin.get("/?page=-3x").status_code,
               admin.get("/folder/nowhere").status_code,
               admin.post("/admin/users", data={"user_id": "abc", "action": "suspend"}).status_code,
               admin.post("/message/1/explode").status_code,
               client().get("/", cookies={"session": "forged"}).status_code]
    assert all(status < 500 for status in answers), answers
    assert answers[:4] == [404, 200, 200, 404]


def test_the_sender_sees_when_mail_left_the_box_and_when_the_relay_sent_it(client, make_user, store):
    make_user("zawadi")
    zawadi = client("zawadi")
    zawadi.post("/compose", data={"to": "friend@example.org", "subject": "Harvest", "body": "Soon",
                                  "action": "send"})
    outbox_page = zawadi.get("/folder/outbox").text
    assert "Harvest" in outbox_page and "Waiting for the next sync" in outbox_page
    assert "Left the box" not in outbox_page
    [record] = store.outbox()
    with store.write() as conn:
        sync_state.mark_uploaded(conn, [record.id])
    uploaded = zawadi.get("/folder/sent").text
    assert "Handed to the relay" in uploaded and "Left the box" in uploaded
    assert "sent by the relay" not in uploaded
    with store.write() as conn:
        outbox.apply_status(conn, StatusRecord(record.id, STATUS_SENT, at=1_700_000_000))
    sent = zawadi.get("/folder/sent").text
    assert "Left the box" in sent and "sent by the relay" in sent and "2023" in sent


def test_attachments_that_follow_their_message_show_as_coming_until_they_arrive(client, make_user, store,
                                                                                tmp_path):
    make_user("neema")
    video = os.urandom(5000)
    digest = hashlib.sha256(video).digest()
    store.deliver_incoming(MessageRecord(  # big mail: the relay sent the text first
        id="r-big", from_=[("", "friend@example.org")], subject="The wedding video", date=1_700_000_000,
        body="Here it is.", recipients=[f"neema@{DOMAIN}"],
        attachments=[Attachment("wedding.mp4", "video/mp4", len(video), digest)]), {})
    neema = client("neema")
    thread_url = re.search(r'href="(/thread/\d+)#m\d+"', neema.get("/").text).group(1)
    waiting = neema.get(thread_url).text
    assert "wedding.mp4" in waiting and "coming with a later sync" in waiting
    assert "/attachment/" not in waiting
    message_id = re.search(r'/compose\?forward=(\d+)', waiting).group(1)
    forward = neema.post("/compose", data={"to": "friend@example.org", "subject": "Fwd: video", "action": "send",
                                           "keep": re.search(r'name="keep" value="(\d+)"', neema.get(
                                               f"/compose?forward={message_id}").text).group(1)})
    assert "wedding.mp4 has not arrived yet" in forward.text  # said now, not as a failure later
    assert store.outbox() == []

    pouch_file = tmp_path / "later.pouch"
    with open(pouch_file, "wb") as out, PouchWriter(out, sender="relay", recipient="box") as pouch:
        pouch.add(BlobRecord(digest, video))
    assert import_pouch(store, pouch_file, "box/down/later.pouch").attachments == 1
    arrived = neema.get(thread_url).text
    assert "coming with a later sync" not in arrived
    assert neema.get(re.search(r'href="(/attachment/\d+)"', arrived).group(1)).content == video
