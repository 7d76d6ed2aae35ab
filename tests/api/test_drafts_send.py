"""Drafts with versions (409 on a stale one), sending three ways, and sent mail taking
the web client's way out: delivered on the box at once, queued for the next sync."""

from tests.api.conftest import DOMAIN

FRIEND = [{"name": "Friend", "email": "friend@example.org"}]


def test_drafts_keep_versions_and_refuse_stale_ones(api):
    asha = api("asha")
    draft = asha.ok("POST", "/drafts", json={"subject": "Plan", "body": "<p>First</p>", "to": FRIEND})
    assert draft["object"] == "draft" and draft["version"] == 0 and draft["to"] == FRIEND
    assert asha.ok("GET", "/drafts") == [draft]
    updated = asha.ok("PUT", f"/drafts/{draft['id']}", json={"body": "<p>Second</p>", "version": 0})
    assert updated["version"] == 1 and "Second" in updated["body"] and updated["subject"] == "Plan"
    stale = asha.put(f"/drafts/{draft['id']}", json={"body": "<p>Lost?</p>", "version": 0})
    assert stale.status_code == 409 and stale.json()["type"] == "invalid_request_error"
    assert "Second" in asha.ok("GET", f"/drafts/{draft['id']}")["body"]
    assert asha.put(f"/drafts/{draft['id']}", json={"body": "x"}).status_code == 400
    assert asha.delete(f"/drafts/{draft['id']}", params={"version": 0}).status_code == 409
    asha.ok("DELETE", f"/drafts/{draft['id']}", json={"version": 1})
    assert asha.get(f"/drafts/{draft['id']}").status_code == 404
    assert asha.ok("GET", "/drafts") == []


def test_bad_drafts_get_clear_errors(api):
    asha = api("asha")
    for body in ({"to": "friend@example.org"}, {"to": [{"name": "x"}]}, {"subject": 5},
                 {"file_ids": ["z1"]}, {"file_ids": ["u999"]}, {"reply_to_message_id": "77"},
                 {"colour": "red"}):
        response = asha.post("/drafts", json=body)
        assert response.status_code in (400, 404), body
        assert response.json()["message"], body
    assert asha.ok("GET", "/drafts") == []


def test_sending_a_draft_queues_it_for_the_next_sync(api, store):
    asha = api("asha")
    upload = asha.ok("POST", "/files", files={"file": ("notes.txt", b"seed list", "text/plain")})[0]
    draft = asha.ok("POST", "/drafts", json={"subject": "Seeds", "body": "<p>See file</p>",
                                             "to": FRIEND, "file_ids": [upload["id"]]})
    assert asha.post("/send", json={"draft_id": draft["id"], "version": 5}).status_code == 409
    sent = asha.ok("POST", "/send", json={"draft_id": draft["id"], "version": 0})
    assert sent["object"] == "message" and sent["folder"]["name"] == "outbox"
    assert sent["state"] == "queued" and asha.get(f"/drafts/{draft['id']}").status_code == 404
    [record] = store.outbox()
    assert record.subject == "Seeds" and record.recipients == ["friend@example.org"]
    assert [a.name for a in record.attachments] == ["notes.txt"]
    assert store.attachment_files.read(record.attachments[0].sha256.hex()) == b"seed list"


def test_api_mail_leaves_like_web_mail(api, client, store):
    """The relay gets the same kind of record whichever client wrote the message."""
    asha = api("asha")
    asha.ok("POST", "/send", json={"subject": "From the app", "body": "Hi", "to": FRIEND})
    client("asha").post("/compose", data={"to": "friend@example.org", "subject": "From the web",
                                          "body": "Hi", "action": "send"})
    app_record, web_record = sorted(store.outbox(), key=lambda r: r.subject)
    assert app_record.subject == "From the app" and web_record.subject == "From the web"
    for record in (app_record, web_record):
        assert record.from_ == [("Asha", f"asha@{DOMAIN}")]
        assert record.recipients == ["friend@example.org"] and record.message_id.endswith(DOMAIN)


def test_sending_inline_and_raw_mime(api, store):
    asha, baraka = api("asha"), api("baraka")
    local = asha.ok("POST", "/send", json={"subject": "Tea?", "body": "<b>4pm</b>",
                                           "to": [{"name": "B", "email": f"baraka@{DOMAIN}"}]})
    assert local["state"] == "delivered" and local["folder"]["name"] == "sent"
    assert [m["subject"] for m in baraka.ok("GET", "/messages", params={"in": "inbox"})] == ["Tea?"]
    raw = (b"From: Asha <ASHA@box.test>\r\nTo: Friend <friend@example.org>\r\nSubject: Raw one\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain body\r\n")
    sent = asha.ok("POST", "/send", data=raw, headers={"Content-Type": "message/rfc822"})
    assert sent["subject"] == "Raw one" and sent["from"][0]["email"] == f"asha@{DOMAIN}"
    assert [r.subject for r in store.outbox()] == ["Raw one"]
    for body, headers in ((b"", {"Content-Type": "message/rfc822"}), (b"[]", {}),
                          (b'{"to": [{"email": "not an address"}]}', {}),
                          (b'{"to": [{"email": "nobody@box.test"}]}', {}), (b'{"subject": "x"}', {})):
        response = asha.post("/send", data=body, headers=headers)
        assert response.status_code == 400, body
    assert len(store.outbox()) == 1


def test_reply_threads_with_the_original(api, receive):
    asha = api("asha")
    receive(["asha"], "Question", 1_700_000_000)
    original = asha.ok("GET", "/messages")[0]
    reply = asha.ok("POST", "/send", json={"subject": "Re: Question", "body": "Answer",
                                           "to": FRIEND, "reply_to_message_id": original["id"]})
    assert reply["thread_id"] == original["thread_id"]
