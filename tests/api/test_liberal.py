"""Liberal in what the API takes from real clients, exact in what it refuses: paging on single
objects, read-only fields sent back, trailing slashes and the API at the root for requests with
a token pass; fields that contradict the request, unknown ones and bad values still get a 400."""

import requests

from tests.api.conftest import DOMAIN

FRIEND = [{"name": "Friend", "email": "friend@example.org"}]


def test_what_clients_send_back_is_taken_and_contradictions_refused(api):
    asha = api("asha")
    draft = asha.ok("POST", "/drafts/", json={"subject": "Plan", "to": FRIEND, "id": None,
                                              "object": "draft", "unread": None, "tracking": None})
    assert asha.ok("GET", f"/drafts/{draft['id']}", params={"offset": 0, "limit": 50}) == draft
    updated = asha.ok("PUT", f"/drafts/{draft['id']}", json={**draft, "subject": "Plan B"})
    assert updated["subject"] == "Plan B" and updated["version"] == draft["version"] + 1
    refusals = {"id": "99", "object": "message", "account_id": "12345", "tracking": {"opens": True},
                "reply_to": FRIEND, "colour": "red"}
    for name, value in refusals.items():
        response = asha.put(f"/drafts/{draft['id']}", json={**updated, name: value})
        assert response.status_code == 400 and response.json()["message"], name
    assert asha.ok("GET", f"/drafts/{draft['id']}")["subject"] == "Plan B"
    assert asha.get("/drafts/x1", params={"offset": 0}).status_code == 400  # still not an id
    assert asha.get("/threads", params={"offset": "-1"}).status_code == 400


def test_messages_take_their_own_fields_back_but_not_changes(api, receive):
    asha = api("asha")
    receive(["asha"], "Market day", 1_700_000_000)
    [message] = asha.ok("GET", "/messages")
    marked = asha.ok("PUT", f"/messages/{message['id']}/", json={**message, "starred": True})
    assert marked["starred"] is True and marked["folder"] == message["folder"]
    changed = asha.put(f"/messages/{message['id']}", json={**message, "subject": "Forged"})
    assert changed.status_code == 400 and "subject" in changed.json()["message"]
    assert asha.ok("GET", f"/messages/{message['id']}")["subject"] == "Market day"


def test_the_api_answers_at_the_root_only_to_a_token(api, box_url):
    asha = api("asha", bearer=True)
    at_root = requests.get(box_url + "/account/", headers=asha.headers, timeout=20)
    assert at_root.status_code == 200 and at_root.json()["email_address"] == f"asha@{DOMAIN}"
    assert requests.get(box_url + "/nothing", headers=asha.headers, timeout=20).json()["message"]
    anonymous = requests.get(box_url + "/account", timeout=20)
    assert anonymous.status_code == 404 and "json" not in anonymous.headers["Content-Type"]
    wrong = requests.get(box_url + "/account", headers={"Authorization": "Bearer mpt_nope"}, timeout=20)
    assert wrong.status_code == 401


def test_labels_files_of_a_message_filters_and_search(api, receive):
    asha = api("asha")
    header = receive(["asha"], "Harvest plan", 1_700_000_000, body="Maize and cassava")
    receive(["asha"], "Market day", 1_700_086_400, body="Bring baskets")
    assert asha.ok("GET", "/labels") == []
    [first, _] = asha.ok("GET", "/messages", params={"order_by": "date"})
    assert first["subject"] == "Harvest plan"
    assert asha.ok("GET", "/files", params={"message_id": first["id"]}) == []
    assert asha.get("/files", params={"message_id": "999"}).status_code == 404
    by_header = asha.ok("GET", "/messages", params={"message_id_header": f"<{header}>"})
    assert [m["subject"] for m in by_header] == ["Harvest plan"]
    assert asha.get("/messages", params={"order_by": "size"}).status_code == 400
    assert [m["subject"] for m in asha.ok("GET", "/messages/search", params={"q": "cassava"})] == [
        "Harvest plan"]
    assert [t["subject"] for t in asha.ok("GET", "/threads/search", params={"q": "baskets"})] == [
        "Market day"]
    assert asha.ok("GET", "/messages/search", params={"q": "!!"}) == []
    asha.ok("POST", "/send", json={"to": FRIEND, "subject": "Out", "body": "Hello"})
    contact = next(c for c in asha.ok("GET", "/contacts") if c["email"] == "friend@example.org")
    assert contact["emails"] == [{"type": None, "email": "friend@example.org"}]
    assert (contact["given_name"], contact["surname"]) == ("Friend", "")
