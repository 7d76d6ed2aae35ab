"""Other addresses (issue #9), box side: the settings page, sealing, what the next pouch
carries, what comes back, and writing from an external address."""

import base64
import re
import time
from pathlib import Path

import pytest

from appliance.store import other_addresses, sync_state, tokens, users
from appliance.sync import importer, outgoing
from pouch import sealing
from pouch.container import PouchReader, PouchWriter
from pouch.records import AccountRecord, AccountStatusRecord, FlagRecord, MessageRecord
from tests.api.conftest import Api
from tests.appliance.conftest import DOMAIN

SECRET = "app-pass-Zq9wxyv-unique"  # found nowhere but inside the seal
GMAIL = {"action": "add", "address": "amani@gmail.com", "display_name": "Amani Gmail",
         "imap_host": "imap.gmail.com", "imap_port": "993", "imap_security": "tls",
         "smtp_host": "smtp.gmail.com", "smtp_port": "465", "smtp_security": "tls",
         "username": "amani@gmail.com", "auth": "password", "password": SECRET, "days": "30"}


def give_relay_key(store):
    """Make the relay's key pair and give the box its public half, as registration does;
    returns the private half."""
    private, public = sealing.new_keypair()
    with store.write() as conn:
        assert sync_state.save_account_key(conn, base64.b64encode(public).decode())
    return private


@pytest.fixture
def relay_key(store):
    return give_relay_key(store)


@pytest.fixture
def amani(make_user, client, relay_key):
    make_user("amani")
    return client("amani")


def account_of(store, address="amani@gmail.com"):
    with store.read() as conn:
        return conn.execute(other_addresses.other_addresses.select().where(
            other_addresses.other_addresses.c.address == address)).mappings().one()


def pack(store, tmp_path):
    """(what outgoing.pack says it packed, the records of the pouch), or (None, [])."""
    path = tmp_path / "outgoing.pouch"
    contents = outgoing.pack(store, path, "box")
    if contents is None:
        return None, []
    with open(path, "rb") as source:
        return contents, list(PouchReader(source))


def relay_takes(store, contents):
    with store.write() as conn:
        sync_state.upload_taken(conn, contents)


def deliver_from_account(store, account_id, record_id="in-1", seen=False, subject="Habari ya Gmail"):
    extra = {"account": account_id, **({"seen": True} if seen else {})}
    store.deliver_incoming(MessageRecord(
        id=record_id, from_=[("Baba", "baba@example.org")], to=[("", "amani@gmail.com")],
        cc=[("", "dada@example.org")], subject=subject, date=int(time.time()), body="Habari!",
        recipients=[f"amani@{DOMAIN}"], extra=extra), {})


def import_records(store, tmp_path, *records, name="relay/down/1.pouch"):
    path = tmp_path / "down.pouch"
    with open(path, "wb") as out, PouchWriter(out, sender="relay", recipient="box") as pouch:
        for record in records:
            pouch.add(record)
    return importer.import_pouch(store, path, name)


def rows_of(page):
    """{subject: (li class, thread link, message id)} of a folder page."""
    found = re.findall(r'<li class="(\w*)">\s*<a href="(/thread/\d+)#m(\d+)">.*?<span class="subject">([^<]*?)\s*<',
                       page, re.S)
    return {subject: (kind, link, message_id) for kind, link, message_id, subject in found}


# -- the settings page --------------------------------------------------------------------


def test_no_address_can_be_added_before_the_relays_key_is_known(make_user, client, store):
    user = make_user("amani")
    amani = client("amani")
    page = amani.get("/settings/addresses").text
    assert "once the box is registered" in page and 'name="action" value="start"' not in page
    with store.write() as conn:
        sync_state.save_registration(conn, "https://relay.example", "box", DOMAIN)
    assert "next sync with the relay" in amani.get("/settings/addresses").text
    refused = amani.post("/settings/addresses", data=GMAIL)
    assert refused.status_code == 400 and "next sync with the relay" in refused.text
    assert SECRET not in refused.text
    with store.read() as conn:
        assert other_addresses.list_for(conn, user["id"]) == []


def test_the_form_is_filled_in_from_the_addresss_domain(amani):
    gmail = amani.post("/settings/addresses", data={"action": "start", "address": "Amani@Gmail.com"}).text
    assert 'value="imap.gmail.com"' in gmail and 'value="smtp.gmail.com"' in gmail
    assert 'value="amani@gmail.com"' in gmail and "app password" in gmail
    outlook = amani.post("/settings/addresses", data={"action": "start", "address": "amani@hotmail.com"}).text
    assert 'value="outlook.office365.com"' in outlook and "login.microsoftonline.com" in outlook
    assert '<option value="xoauth2" selected>' in outlook and "<details open>" in outlook
    yahoo = amani.post("/settings/addresses", data={"action": "start", "address": "amani@yahoo.com"}).text
    assert 'value="imap.mail.yahoo.com"' in yahoo
    school = amani.post("/settings/addresses", data={"action": "start", "address": "amani@ecole.cd"}).text
    assert 'value="imap.ecole.cd"' in school and "a guess" in school
    bad = amani.post("/settings/addresses", data={"action": "start", "address": "amani at gmail"})
    assert bad.status_code == 400 and "This is not an email address" in bad.text


@pytest.mark.parametrize("change, message", [
    ({"address": "not an address"}, "This is not an email address: not an address"),
    ({"address": ""}, "Give one email address"),
    ({"address": f"amani@{DOMAIN}"}, "an address of this box already"),
    ({"imap_port": "99999"}, "The IMAP port is a number from 1 to 65535"),
    ({"smtp_host": "smtp gmail com"}, "Give the SMTP server"),
    ({"imap_security": "maybe"}, "Choose the connection security"),
    ({"password": ""}, "Give the password (or app password)"),
    ({"auth": "xoauth2", "client_id": "abc", "refresh_token": SECRET}, "give the token URL"),
    ({"auth": "xoauth2", "token_url": "https://oauth2.googleapis.com/token", "client_id": "abc"},
     "give the refresh token"),
    ({"days": "0"}, "1 to 365 days"),
])
def test_a_refused_form_says_why_keeps_what_was_typed_but_not_the_password(amani, store, change, message):
    refused = amani.post("/settings/addresses", data={**GMAIL, "imap_host": "imap.example.net", **change})
    assert refused.status_code == 400
    assert message in refused.text
    assert 'value="imap.example.net"' in refused.text  # kept: nothing to type again but the password
    assert SECRET not in refused.text
    assert "amani@gmail.com" not in amani.get("/settings/addresses").text


def test_the_password_is_sealed_for_the_relay_and_never_shown_or_kept_in_the_clear(amani, store, relay_key,
                                                                                   box_settings):
    added = amani.post("/settings/addresses", data=GMAIL)
    assert added.url.endswith("/settings/addresses?saved=added")
    assert "amani@gmail.com" in added.text and "Waiting for the next sync" in added.text
    account = account_of(store)
    pages = [added.text, amani.get(f"/settings/addresses/{account['id']}/password").text,
             amani.get(f"/settings/addresses/{account['id']}/remove").text, amani.get("/compose").text,
             amani.get("/settings").text]
    assert not any(SECRET in page for page in pages)
    for path in Path(box_settings.box.data_dir).rglob("*"):  # the database, its WAL, every file
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    settings = sealing.unseal(relay_key, account["sealed"])
    assert settings == {"imap_host": "imap.gmail.com", "imap_port": 993, "imap_security": "tls",
                        "smtp_host": "smtp.gmail.com", "smtp_port": 465, "smtp_security": "tls",
                        "username": "amani@gmail.com", "auth": "password", "password": SECRET, "days": 30}
    again = amani.post("/settings/addresses", data=GMAIL)
    assert again.status_code == 400 and "You have added amani@gmail.com already" in again.text


def test_oauth2_settings_are_sealed_with_the_refresh_token(amani, store, relay_key):
    amani.post("/settings/addresses", data={
        **GMAIL, "auth": "xoauth2", "password": "", "token_url": "https://oauth2.googleapis.com/token",
        "client_id": "box-app", "client_secret": "shh", "refresh_token": SECRET})
    settings = sealing.unseal(relay_key, account_of(store)["sealed"])
    assert settings["auth"] == "xoauth2" and "password" not in settings
    assert settings["oauth"] == {"token_url": "https://oauth2.googleapis.com/token", "client_id": "box-app",
                                 "client_secret": "shh", "refresh_token": SECRET}


def test_pause_resume_change_password_and_remove_with_confirmation(amani, store, relay_key, tmp_path):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    relay_takes(store, pack(store, tmp_path)[0])
    paused = amani.post(f"/settings/addresses/{account_id}/pause")
    assert "Paused" in paused.text and f"/settings/addresses/{account_id}/resume" in paused.text
    resumed = amani.post(f"/settings/addresses/{account_id}/resume")
    assert "Waiting for the next sync" in resumed.text and f"{account_id}/pause" in resumed.text
    changed = amani.post(f"/settings/addresses/{account_id}/password", data={"password": "new-app-pass"})
    assert "Password changed" in changed.text and "new-app-pass" not in changed.text
    assert sealing.unseal(relay_key, account_of(store)["sealed"])["password"] == "new-app-pass"
    confirm = amani.get(f"/settings/addresses/{account_id}/remove")
    assert "Remove amani@gmail.com?" in confirm.text and 'method="post"' in confirm.text
    assert "amani@gmail.com" in amani.get("/settings/addresses").text  # asking removed nothing
    removed = amani.post(f"/settings/addresses/{account_id}/remove")
    assert "Removed" in removed.text and "amani@gmail.com" not in removed.text
    row = account_of(store)
    assert row["state"] == "removed" and row["sealed"] is None  # kept to tell the relay, without secrets
    assert amani.post(f"/settings/addresses/{account_id}/resume").status_code == 404


def test_nobody_else_can_touch_an_account(amani, store, make_user, client):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    make_user("eve")
    eve = client("eve")
    assert "amani@gmail.com" not in eve.get("/settings/addresses").text
    assert eve.post(f"/settings/addresses/{account_id}/pause").status_code == 404
    assert eve.get(f"/settings/addresses/{account_id}/remove").status_code == 404
    assert account_of(store)["state"] == "active"


def test_the_settings_page_is_in_french_too(amani):
    amani.post("/settings", data={"action": "language", "language": "fr"})
    page = amani.get("/settings/addresses").text
    assert "Vos autres adresses" in page and "Suivant" in page
    form = amani.post("/settings/addresses", data={"action": "start", "address": "amani@gmail.com"}).text
    assert "Courrier entrant (IMAP)" in form and "Courrier sortant (SMTP)" in form


# -- what the next pouch carries ----------------------------------------------------------


def test_an_account_travels_alone_and_once_with_its_sealed_settings(amani, store, relay_key, tmp_path):
    assert pack(store, tmp_path) == (None, [])  # nothing owed: no upload at all
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    contents, records = pack(store, tmp_path)
    [record] = records
    assert isinstance(record, AccountRecord) and contents.uids == []  # no mail, still an upload
    assert (record.id, record.owner, record.address, record.state) == (
        account_id, f"amani@{DOMAIN}", "amani@gmail.com", "active")
    assert sealing.unseal(relay_key, record.sealed)["password"] == SECRET
    relay_takes(store, contents)
    assert account_of(store)["sealed"] is None  # gone from the box once the relay has it
    assert pack(store, tmp_path) == (None, [])
    amani.post(f"/settings/addresses/{account_id}/pause")
    _, [paused] = pack(store, tmp_path)
    assert (paused.state, paused.sealed) == ("paused", b"")  # settings unchanged: not sent again


def test_a_change_made_while_a_pouch_travels_waits_for_the_next_one(amani, store, relay_key, tmp_path):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    contents, _ = pack(store, tmp_path)
    amani.post(f"/settings/addresses/{account_id}/password", data={"password": "newer-pass"})
    relay_takes(store, contents)  # the first pouch arrives after the change
    _, [record] = pack(store, tmp_path)
    assert sealing.unseal(relay_key, record.sealed)["password"] == "newer-pass"


def test_reading_mail_from_an_account_sends_its_read_state_back(amani, store, relay_key, tmp_path):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    relay_takes(store, pack(store, tmp_path)[0])
    deliver_from_account(store, account_id, "in-1")
    deliver_from_account(store, account_id, "in-2", seen=True, subject="Already read on Gmail")
    inbox = amani.get("/").text
    assert "to amani@gmail.com" in inbox
    rows = rows_of(inbox)
    assert rows["Already read on Gmail"][0] == "" and rows["Habari ya Gmail"][0] == "unread"
    assert pack(store, tmp_path) == (None, [])  # arriving read owes the server nothing
    _, thread, message_id = rows["Habari ya Gmail"]
    assert "to amani@gmail.com" in amani.get(thread).text  # reading marks it read
    contents, [flag] = pack(store, tmp_path)
    assert isinstance(flag, FlagRecord) and (flag.message_id, flag.seen) == ("in-1", True)
    amani.post(f"/message/{message_id}/unread", data={"next": "/"})  # as the page's button does
    _, [flag] = pack(store, tmp_path)  # the latest wish only
    assert (flag.message_id, flag.seen) == ("in-1", False)
    relay_takes(store, contents)  # the pouch with the older wish: the newer one stays
    _, [flag] = pack(store, tmp_path)
    assert flag.seen is False
    relay_takes(store, pack(store, tmp_path)[0])
    assert pack(store, tmp_path) == (None, [])


def test_mail_read_on_another_client_shows_read_here_and_owes_the_relay_nothing(amani, store, tmp_path):
    amani.post("/settings/addresses", data=GMAIL)
    relay_takes(store, pack(store, tmp_path)[0])
    deliver_from_account(store, account_of(store)["id"], "in-1")
    now = int(time.time())
    result = import_records(store, tmp_path, FlagRecord("in-1", True, now), FlagRecord("not-here", True, now))
    assert result.read_elsewhere == 1
    state, _, message_id = rows_of(amani.get("/").text)["Habari ya Gmail"]
    assert state == ""  # read, as the phone left it
    assert pack(store, tmp_path) == (None, [])  # nothing echoed back to the server

    # Marked unread here and not yet synced: the box's own newer change wins.
    amani.post(f"/message/{message_id}/unread", data={"next": "/"})
    import_records(store, tmp_path, FlagRecord("in-1", True, now), name="relay/down/2.pouch")
    assert rows_of(amani.get("/").text)["Habari ya Gmail"][0] == "unread"


def test_reading_ordinary_mail_owes_the_relay_nothing(amani, store, tmp_path):
    store.deliver_incoming(MessageRecord(id="plain", from_=[("", "a@example.org")], subject="Plain",
                                         date=int(time.time()), recipients=[f"amani@{DOMAIN}"]), {})
    amani.get(rows_of(amani.get("/").text)["Plain"][1])
    assert pack(store, tmp_path) == (None, [])


# -- what comes back ----------------------------------------------------------------------


def test_the_relays_reports_show_on_the_settings_page(amani, store, relay_key, tmp_path):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    relay_takes(store, pack(store, tmp_path)[0])
    synced = int(time.time()) - 3600
    result = import_records(store, tmp_path, AccountStatusRecord(account_id, "syncing", synced, synced_at=synced))
    assert result.account_statuses == 1
    page = amani.get("/settings/addresses").text
    assert "Syncing" in page and "Last synced" in page
    import_records(store, tmp_path, AccountStatusRecord(account_id, "error", synced + 60,
                                                        error="the server refused the password"),
                   AccountStatusRecord(account_id, "syncing", synced - 60), name="relay/down/2.pouch")
    page = amani.get("/settings/addresses").text  # the older report does not win
    assert "Error: the server refused the password" in page and "Last synced" in page
    ignored = import_records(store, tmp_path, AccountStatusRecord("unknown", "error", synced, error="x"),
                             AccountStatusRecord(account_id, "exploded", synced + 120), name="relay/down/3.pouch")
    assert ignored.account_statuses == 0  # another account's, or a state this box does not know
    assert "Error: the server refused the password" in amani.get("/settings/addresses").text
    import_records(store, tmp_path, AccountStatusRecord(account_id, "paused", synced + 180),
                   name="relay/down/4.pouch")  # the relay's operator stopped it
    assert "Stopped at the relay" in amani.get("/settings/addresses").text


# -- writing from an external address -----------------------------------------------------


def test_compose_offers_the_box_address_first_then_the_accounts(amani, store, make_user, client):
    make_user("baraka")
    assert 'name="account"' not in client("baraka").get("/compose").text
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    form = amani.get("/compose").text
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>',
                         re.search(r'<select id="from".*?</select>', form, re.S).group(0))
    assert options == [("", f"amani@{DOMAIN}"), (account_id, "amani@gmail.com")]
    sent = amani.post("/compose", data={"to": "rafiki@example.org", "subject": "Kutoka Gmail",
                                        "body": "Salut", "account": account_id, "action": "send"})
    assert sent.url.endswith("/folder/outbox")
    [record] = store.outbox()
    assert record.from_ == [("Amani Gmail", "amani@gmail.com")] and record.extra == {"account": account_id}
    amani.post("/compose", data={"to": "rafiki@example.org", "subject": "From the box", "action": "send"})
    plain = [r for r in store.outbox() if r.subject == "From the box"][0]
    assert plain.from_ == [("Amani", f"amani@{DOMAIN}")] and plain.extra == {}


def test_replies_to_mail_from_an_account_go_out_from_it(amani, store, relay_key, tmp_path):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    relay_takes(store, pack(store, tmp_path)[0])
    deliver_from_account(store, account_id)
    _, _, message_id = rows_of(amani.get("/").text)["Habari ya Gmail"]
    form = amani.get(f"/compose?reply_all={message_id}").text
    assert f'<option value="{account_id}" selected>' in form
    to = re.search(r'id="to" name="to" [^>]*value="([^"]*)"', form).group(1)
    cc = re.search(r'id="cc" name="cc" [^>]*value="([^"]*)"', form).group(1)
    assert "baba@example.org" in to and "amani@gmail.com" not in to + cc and "dada@example.org" in cc
    amani.post(f"/settings/addresses/{account_id}/remove")
    form = amani.get(f"/compose?reply={message_id}").text  # gone: the box address it is
    assert 'name="account"' not in form
    refused = amani.post("/compose", data={"to": "baba@example.org", "account": account_id, "action": "send"})
    assert refused.status_code == 400 and "You can no longer send from this address" in refused.text



def test_apps_choose_the_address_they_send_from_through_the_api(amani, store, box_url):
    amani.post("/settings/addresses", data=GMAIL)
    account_id = account_of(store)["id"]
    with store.write() as conn:
        token = tokens.create(conn, users.find_by_email(conn, f"amani@{DOMAIN}")["id"], "app")
    app = Api(box_url + "/api", token)
    baba = [{"name": "Baba", "email": "baba@example.org"}]

    app.ok("POST", "/send", json={"subject": "From Gmail", "body": "Hi", "to": baba,
                                  "from": [{"email": "Amani@Gmail.com"}]})
    draft = app.ok("POST", "/drafts", json={"subject": "Draft from Gmail", "to": baba,
                                             "from": [{"email": "amani@gmail.com"}]})
    assert draft["from"][0]["email"] == "amani@gmail.com"
    app.ok("POST", "/send", json={"draft_id": draft["id"], "version": draft["version"]})
    app.ok("POST", "/send", json={"subject": "From the box", "body": "Hi", "to": baba})
    refused = app.post("/send", json={"subject": "x", "to": baba, "from": [{"email": "boss@example.org"}]})
    assert refused.status_code == 400 and "not one of your addresses" in refused.json()["message"]

    sent = {record.subject: record for record in store.outbox()}
    for subject in ("From Gmail", "Draft from Gmail"):
        assert sent[subject].from_[0][1] == "amani@gmail.com"
        assert sent[subject].extra == {"account": account_id}
    assert sent["From the box"].from_[0][1] == f"amani@{DOMAIN}" and sent["From the box"].extra == {}
