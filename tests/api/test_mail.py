"""Messages and threads over HTTP: the sync-engine's shapes, every filter, paging, views,
raw MIME, and marking (unread, starred, trash)."""

import hashlib

from pouch.mime import parse
from pouch.records import Attachment
from tests.api.conftest import DOMAIN

T0 = 1_700_000_000
DAY = 86400


def mailbox_of(api, receive):
    """Asha's mail: a thread of two from outside, one with a file; one more; one she sent."""
    asha = api("asha")
    data = b"%PDF-1.4 tiny"
    pdf = Attachment("report.pdf", "application/pdf", len(data), hashlib.sha256(data).digest())
    first = receive(["asha"], "Harvest plan", T0, cc=[("Chef", "chef@example.org")])
    receive(["asha"], "Re: Harvest plan", T0 + DAY, references=[first], attachments=[pdf],
            blobs={pdf.sha256: data})
    receive(["asha", "baraka"], "Market day", T0 + 2 * DAY, sender=("Mama", "mama@example.net"))
    asha.ok("POST", "/send", json={"to": [{"name": "Friend", "email": "friend@example.org"}],
                                   "bcc": [{"name": "", "email": "hidden@example.com"}],
                                   "subject": "Going out", "body": "<p>Bye</p>"})
    return asha


def subjects(api, query):
    return [m["subject"] for m in api.ok("GET", "/messages", params=query)]


def test_messages_have_the_sync_engines_shape(api, receive):
    asha = mailbox_of(api, receive)
    reply = next(m for m in asha.ok("GET", "/messages") if m["subject"] == "Re: Harvest plan")
    assert reply["object"] == "message" and reply["unread"] is True and reply["starred"] is False
    assert reply["from"] == [{"name": "Outside", "email": "out@example.org"}]
    assert reply["to"] == [{"name": "Asha", "email": f"asha@{DOMAIN}"}]
    assert reply["date"] == T0 + DAY and reply["body"].startswith("Hello")
    assert reply["folders"][0]["name"] == "inbox" and reply["snippet"] == "Hello"
    assert [f["filename"] for f in reply["files"]] == ["report.pdf"]
    assert asha.ok("GET", f"/messages/{reply['id']}") == reply
    thread = asha.ok("GET", f"/threads/{reply['thread_id']}")
    assert thread["object"] == "thread" and len(thread["message_ids"]) == 2
    assert thread["subject"] == "Harvest plan" and thread["has_attachments"] is True
    assert thread["first_message_timestamp"] == T0 and thread["last_message_timestamp"] == T0 + DAY
    assert {p["email"] for p in thread["participants"]} == {
        "out@example.org", f"asha@{DOMAIN}", "chef@example.org"}
    expanded = asha.ok("GET", f"/threads/{reply['thread_id']}", params={"view": "expanded"})
    assert [m["subject"] for m in expanded["messages"]] == ["Harvest plan", "Re: Harvest plan"]
    headers = asha.ok("GET", f"/messages/{reply['id']}", params={"view": "expanded"})["headers"]
    first_id = expanded["messages"][0]["id"]
    assert headers["In-Reply-To"] == headers["References"] == asha.ok(
        "GET", f"/messages/{first_id}", params={"view": "expanded"})["headers"]["Message-Id"]


def test_every_filter(api, receive):
    asha = mailbox_of(api, receive)
    assert subjects(asha, {}) == ["Going out", "Market day", "Re: Harvest plan", "Harvest plan"]
    assert subjects(asha, {"in": "inbox"}) == ["Market day", "Re: Harvest plan", "Harvest plan"]
    assert subjects(asha, {"in": "outbox"}) == ["Going out"]
    assert subjects(asha, {"in": "nowhere"}) == []
    assert subjects(asha, {"to": "friend@example.org"}) == ["Going out"]
    assert subjects(asha, {"from": "MAMA@example.net"}) == ["Market day"]
    assert subjects(asha, {"cc": "chef@example.org"}) == ["Harvest plan"]
    assert subjects(asha, {"bcc": "hidden@example.com"}) == ["Going out"]
    assert subjects(asha, {"any_email": "chef@example.org"}) == ["Harvest plan"]
    assert subjects(asha, {"any_email": "%@example.org"}) == []  # no wildcards
    assert subjects(asha, {"subject": "Market day"}) == ["Market day"]
    assert subjects(asha, {"filename": "report.pdf"}) == ["Re: Harvest plan"]
    assert subjects(asha, {"unread": "false"}) == ["Going out"]
    assert subjects(asha, {"received_after": T0, "received_before": T0 + 2 * DAY}) == [
        "Re: Harvest plan"]
    assert subjects(asha, {"started_after": T0, "in": "inbox"}) == ["Market day"]
    assert subjects(asha, {"started_before": T0 + 1, "last_message_after": T0}) == [
        "Re: Harvest plan", "Harvest plan"]
    assert subjects(asha, {"last_message_before": T0 + DAY}) == []
    harvest = asha.ok("GET", "/threads", params={"subject": "Harvest plan"})[0]
    assert subjects(asha, {"thread_id": harvest["id"]}) == ["Re: Harvest plan", "Harvest plan"]
    market = asha.ok("GET", "/messages", params={"subject": "Market day"})[0]
    asha.ok("PUT", f"/messages/{market['id']}", json={"starred": True})
    assert subjects(asha, {"starred": "true"}) == ["Market day"]
    assert [t["subject"] for t in asha.ok("GET", "/threads", params={"in": "inbox"})] == [
        "Market day", "Harvest plan"]
    assert asha.ok("GET", "/threads", params={"from": "out@example.org", "view": "count"}) == {
        "count": 1}


def test_paging_views_and_bad_parameters(api, receive):
    asha = mailbox_of(api, receive)
    assert subjects(asha, {"limit": 2}) == ["Going out", "Market day"]
    assert subjects(asha, {"limit": 2, "offset": 3}) == ["Harvest plan"]
    assert asha.ok("GET", "/messages", params={"view": "count"}) == {"count": 4}
    ids = asha.ok("GET", "/messages", params={"view": "ids", "limit": 1})
    assert len(ids) == 1 and isinstance(ids[0], str)
    for query in ({"limit": 1001}, {"limit": -1}, {"offset": "x"}, {"view": "all"},
                  {"unread": "maybe"}, {"colour": "red"}, {"thread_id": "abc"},
                  {"received_after": "yesterday"}):
        response = asha.get("/messages", params=query)
        assert response.status_code == 400, query
        assert response.json()["type"] == "invalid_request_error"
    assert asha.get("/messages/999999").status_code == 404
    assert asha.get("/nothing/here").json()["message"] == "No such endpoint"


def test_marking_messages_and_threads(api, receive):
    asha = mailbox_of(api, receive)
    thread = asha.ok("GET", "/threads", params={"subject": "Harvest plan"})[0]
    marked = asha.ok("PUT", f"/threads/{thread['id']}", json={"unread": False, "starred": True})
    assert marked["unread"] is False and marked["starred"] is True
    assert subjects(asha, {"unread": "true"}) == ["Market day"]
    asha.ok("PUT", f"/threads/{thread['id']}", json={"folder_id": "trash"})
    assert subjects(asha, {"in": "trash"}) == ["Re: Harvest plan", "Harvest plan"]
    message_id = thread["message_ids"][0]
    back = asha.ok("PUT", f"/messages/{message_id}", json={"folder_id": "inbox", "unread": True})
    assert back["folder"]["name"] == "inbox" and back["unread"] is True
    for body in ({"unread": "yes"}, {"folder_id": "spam"}, {"colour": "red"}, [1]):
        assert asha.put(f"/messages/{message_id}", json=body).status_code == 400, body
    assert asha.put(f"/messages/{message_id}", data=b"{not json").status_code == 400


def test_a_message_as_raw_mime(api, receive):
    asha = mailbox_of(api, receive)
    reply = asha.ok("GET", "/messages", params={"subject": "Re: Harvest plan"})[0]
    raw = asha.get(f"/messages/{reply['id']}", headers={"Accept": "message/rfc822"})
    assert raw.headers["Content-Type"] == "message/rfc822"
    parsed = parse(raw.content, "x")
    assert parsed.record.subject == "Re: Harvest plan"
    assert list(parsed.blobs.values()) == [b"%PDF-1.4 tiny"]
