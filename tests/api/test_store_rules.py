"""The store's rules hold whichever door mail comes in by (issue 14 items 1, 2, 11; issue 13
item 6): Bcc stays with the sender, senders are the user's own addresses, the attachment and
recipient limits count everything, and threads form by subject only where a person would agree."""

import hashlib
import os
import time
from dataclasses import replace

import msgpack

from appliance.store import boxinfo
from pouch.container import wire
from pouch.limits import MAX_RECIPIENTS
from pouch.mime import parse
from pouch.records import Attachment
from tests.api.conftest import DOMAIN
from tests.appliance.test_external_accounts import GMAIL, account_of, give_relay_key

FRIEND = [{"name": "Friend", "email": "friend@example.org"}]
RAW = {"Content-Type": "message/rfc822"}


def emails(people):
    return {person["email"] for person in people}


def test_bcc_stays_with_the_sender(api):
    asha, baraka, chausiku = api("asha"), api("baraka"), api("chausiku")
    hidden = {f"chausiku@{DOMAIN}", "secret@example.org"}
    sent = asha.ok("POST", "/send", json={
        "subject": "Surprise party", "body": "<p>Saturday</p>",
        "to": [{"name": "Baraka", "email": f"baraka@{DOMAIN}"}],
        "bcc": [{"name": "Chausiku", "email": f"chausiku@{DOMAIN}"}, {"email": "secret@example.org"}]})

    for reader in (baraka, chausiku):  # the To recipient, and the Bcc one: neither sees the list
        [message] = reader.ok("GET", "/messages", params={"in": "inbox"})
        assert message["subject"] == "Surprise party" and message["bcc"] == []
        assert reader.ok("GET", f"/messages/{message['id']}")["bcc"] == []
        thread = reader.ok("GET", f"/threads/{message['thread_id']}", params={"view": "expanded"})
        assert not hidden & emails(thread["participants"])
        assert [m["bcc"] for m in thread["messages"]] == [[]]
        assert not hidden & {p["email"] for t in reader.ok("GET", "/threads") for p in t["participants"]}
        for address in hidden:
            for path in ("/messages", "/threads"):
                for name in ("bcc", "any_email"):
                    assert reader.ok("GET", path, params={name: address}) == [], (path, name, address)
                    assert reader.ok("GET", path, params={name: address, "view": "count"}) == {"count": 0}
        assert not hidden & emails(reader.ok("GET", "/contacts"))
        delta = reader.ok("GET", "/delta", params={"cursor": "0"})["deltas"]
        assert not [d for d in delta if d["object"] == "message" and d["attributes"]["bcc"]]

    mine = asha.ok("GET", f"/messages/{sent['id']}")
    assert emails(mine["bcc"]) == hidden
    assert hidden <= emails(asha.ok("GET", f"/threads/{mine['thread_id']}")["participants"])
    for name in ("bcc", "any_email"):
        found = asha.ok("GET", "/messages", params={name: "secret@example.org"})
        assert [m["id"] for m in found] == [sent["id"]]
    assert hidden <= emails(asha.ok("GET", "/contacts"))


def test_web_search_finds_nobody_elses_mail_by_its_bcc(api, client):
    asha, _ = api("asha"), api("baraka")
    asha.ok("POST", "/send", json={"subject": "Budget", "body": "Figures", "bcc": FRIEND,
                                   "to": [{"name": "Baraka", "email": f"baraka@{DOMAIN}"}]})
    asha.ok("POST", "/send", json={"subject": "Alone", "body": "Only mine", "to": FRIEND,
                                   "bcc": [{"email": "quiet@example.org"}]})
    baraka = client("baraka")
    assert "Budget" in baraka.get("/search", params={"q": "figures"}).text
    assert "Budget" not in baraka.get("/search", params={"q": "friend"}).text
    assert "Alone" in client("asha").get("/search", params={"q": "quiet"}).text  # the sender's own


def received_files(receive, sizes):
    files = [os.urandom(size) for size in sizes]
    attachments = [Attachment(f"photo{i}.jpg", "image/jpeg", len(data), hashlib.sha256(data).digest())
                   for i, data in enumerate(files)]
    receive(["asha"], "Photos", 1_700_000_000, attachments=attachments,
            blobs={a.sha256: data for a, data in zip(attachments, files)})


def test_forwarding_kept_attachments_cannot_escape_the_attachment_limit(api, receive, store):
    with store.write() as conn:
        boxinfo.put(conn, boxinfo.MAX_ATTACHMENTS_MB, 1)
    asha = api("asha")
    received_files(receive, [600 * 1024, 600 * 1024])
    [photos] = asha.ok("GET", "/messages")
    kept = [f["id"] for f in photos["files"]]
    upload = asha.ok("POST", "/files", files={"file": ("more.jpg", os.urandom(600 * 1024), "image/jpeg")})[0]
    for file_ids in (kept, [kept[0], upload["id"]]):
        for path in ("/send", "/drafts"):
            refused = asha.post(path, json={"subject": "Fwd: Photos", "to": FRIEND, "file_ids": file_ids})
            assert refused.status_code == 400, (path, file_ids, refused.text)
            assert "too big together (1.2 MB); the limit is 1.0 MB" in refused.json()["message"]
    assert store.outbox() == [] and asha.ok("GET", "/drafts") == []
    sent = asha.ok("POST", "/send", json={"subject": "Fwd: Photos", "to": FRIEND, "file_ids": kept[:1]})
    assert [f["filename"] for f in sent["files"]] == ["photo0.jpg"]


def test_only_the_users_own_addresses_send(api, store):
    asha = api("asha")
    for foreign in ("ceo@bank.example", f"baraka@{DOMAIN}"):
        for path in ("/send", "/drafts"):
            refused = asha.post(path, json={"subject": "Wire", "body": "Now", "to": FRIEND,
                                            "from": [{"name": "Boss", "email": foreign}]})
            assert refused.status_code == 400, (path, foreign)
            assert f"{foreign} is not one of your addresses" in refused.json()["message"]
        raw = f"From: Boss <{foreign}>\r\nTo: friend@example.org\r\nSubject: Wire\r\n\r\nNow\r\n".encode()
        refused = asha.post("/send", data=raw, headers=RAW)
        assert refused.status_code == 400 and "not one of your addresses" in refused.json()["message"]
    assert store.outbox() == [] and asha.ok("GET", "/drafts") == []
    sent = asha.ok("POST", "/send", json={"subject": "Mine", "to": FRIEND,
                                          "from": [{"email": f"ASHA@{DOMAIN.upper()}"}]})
    assert sent["from"] == [{"name": "Asha", "email": f"asha@{DOMAIN}"}]


def test_the_web_form_sends_from_no_one_elses_address(make_user, client, store):
    give_relay_key(store)
    make_user("amani")
    client("amani").post("/settings/addresses", data=GMAIL)
    make_user("asha")
    refused = client("asha").post("/compose", data={"to": "friend@example.org", "subject": "Hi",
                                                    "account": account_of(store)["id"], "action": "send"})
    assert refused.status_code == 400 and "You can no longer send from this address" in refused.text
    assert store.outbox() == []


def base36(number):
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def test_too_many_recipients_are_refused_at_compose_with_the_reason(api, client, store):
    asha = api("asha")
    many = [{"email": f"r{i}@example.org"} for i in range(MAX_RECIPIENTS + 1)]
    for path in ("/send", "/drafts"):
        refused = asha.post(path, json={"subject": "All", "to": many[:600], "cc": many[600:]})
        assert refused.status_code == 400
        assert "at most 1,000 recipients; this one has 1,001" in refused.json()["message"]
    # Short addresses: the compose form's text fields are capped at 1 MiB before the store sees them.
    everyone = ",".join(f"{base36(i)}@x.io" for i in range(100_000))
    refused = client("asha").post("/compose", data={"to": everyone, "subject": "Everyone", "body": "Hi",
                                                    "action": "send"},
                                  files={"files": ("", b"", "application/octet-stream")})
    assert refused.status_code == 400
    assert "at most 1,000 recipients; this one has 100,000" in refused.text
    assert store.outbox() == [] and asha.ok("GET", "/drafts") == []


def test_wrong_typed_fields_get_400_not_500(api, receive):
    asha = api("asha")
    receive(["asha"], "Hello", 1_700_000_000)
    [message] = asha.ok("GET", "/messages")
    for path in (f"/messages/{message['id']}", f"/threads/{message['thread_id']}"):
        for body in ({"folder": []}, {"folder_id": {"id": "trash"}}, {"folder": 5}, {"unread": "no"},
                     {"starred": None}):
            response = asha.put(path, json=body)
            assert response.status_code == 400, (path, body, response.text)
            assert response.json()["type"] == "invalid_request_error" and response.json()["message"]
    assert asha.ok("GET", f"/messages/{message['id']}")["folder"]["name"] == "inbox"
    lone = [{"subject": "\ud800"}, {"body": "a\udfffb"}, {"to": [{"name": "\ud800", "email": "f@example.org"}]}]
    for body in lone:
        for path in ("/drafts", "/send"):  # JSON may carry lone surrogates; nothing can store them
            response = asha.post(path, json={"to": FRIEND, **body})
            assert response.status_code == 400 and "lone surrogate" in response.json()["message"], body


# Real bounces of the shared corpus, all titled "Undelivered Mail Returned to Sender".
YEARS_APART = ("sisimai-set-of-emails/lhost-postfix-51.eml",  # 2016, mail.example.com
               "sisimai-set-of-emails/lhost-postfix-57.eml",  # 2019, rokujo.cr.nyaan.jp
               "sisimai-set-of-emails/rhost-franceptt-12.eml")  # 2021, xxxx.xxxx.net
HOURS_APART = ("sisimai-set-of-emails/rhost-franceptt-05.eml",  # one server, one day of 2019
               "sisimai-set-of-emails/rhost-franceptt-06.eml")


def arrive(store, raw, record_id, to="asha"):
    """Mail from outside as the relay converts it and a pouch carries it to the box."""
    parsed = parse(raw, record_id)
    record = replace(parsed.record, recipients=[f"{to}@{DOMAIN}"])
    carried = wire.decode(msgpack.unpackb(msgpack.packb(wire.encode(record), use_bin_type=True)))
    store.deliver_incoming(carried, parsed.blobs)
    return carried


def written(sender, subject, date, headers=""):
    when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(date))
    return (f"From: {sender}\r\nTo: Asha <asha@{DOMAIN}>\r\nSubject: {subject}\r\nDate: {when}\r\n"
            f"Message-ID: <{date}.{abs(hash(sender))}@example.org>\r\n{headers}\r\nText\r\n").encode()


def threads_by_record(asha):
    return {m["subject"] + "|" + m["from"][0]["email"] + "|" + str(m["date"]): m["thread_id"]
            for m in asha.ok("GET", "/messages", params={"limit": 100})}


def test_bounces_with_one_subject_do_not_share_a_thread(api, store, corpus_dir):
    asha = api("asha")
    records = [arrive(store, (corpus_dir / name).read_bytes(), f"bounce-{i}")
               for i, name in enumerate(YEARS_APART + HOURS_APART)]
    assert {r.subject for r in records} == {"Undelivered Mail Returned to Sender"}
    assert all(r.automatic for r in records)
    thread_ids = [m["thread_id"] for m in asha.ok("GET", "/messages")]
    assert len(thread_ids) == 5 and len(set(thread_ids)) == 5


def test_a_persons_mail_threads_by_subject_within_a_month(api, store):
    asha = api("asha")
    day = 24 * 3600
    start = int(time.time()) - 80 * day
    neema, juma = "Neema <neema@example.org>", "Juma <juma@example.org>"
    arrive(store, written(neema, "Harvest plans", start), "n1")
    arrive(store, written(neema, "Re: Harvest plans", start + 3 * day), "n2")  # no References
    arrive(store, written(juma, "Harvest plans", start + 4 * day), "j1")  # someone else
    away = "Auto-Submitted: auto-replied\r\n"
    arrive(store, written(neema, "Harvest plans", start + 5 * day, away), "auto")
    arrive(store, written(neema, "Harvest plans", start + 70 * day), "n3")  # two months of silence
    by_record = threads_by_record(asha)
    first = by_record[f"Harvest plans|neema@example.org|{start}"]
    assert by_record[f"Re: Harvest plans|neema@example.org|{start + 3 * day}"] == first
    others = [by_record[f"Harvest plans|juma@example.org|{start + 4 * day}"],
              by_record[f"Harvest plans|neema@example.org|{start + 5 * day}"],
              by_record[f"Harvest plans|neema@example.org|{start + 70 * day}"]]
    assert len({first, *others}) == 4

    reply = asha.ok("POST", "/send", json={"subject": "Re: Harvest plans", "body": "Yes",
                                           "to": [{"email": "neema@example.org"}]})
    assert reply["thread_id"] == others[-1]  # the latest within the month, by the person answered
