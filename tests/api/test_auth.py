"""API tokens: made on the settings page and shown once, Basic or Bearer, revocable,
and a token reaches only its own user's mail."""

import re

import requests

from appliance.store import users
from tests.api.conftest import DOMAIN, Api


def test_a_token_made_on_the_settings_page_works_until_revoked(client, make_user, api_url):
    make_user("amani")
    browser = client("amani")
    assert 'href="/settings/tokens"' in browser.get("/settings").text
    page = browser.post("/settings/tokens", data={"name": "Phone app"})
    assert page.status_code == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)
    listed = browser.get("/settings/tokens").text
    assert "Phone app" in listed and token not in listed  # shown once only
    for session in (Api(api_url, token), Api(api_url, token, bearer=True)):
        account = session.ok("GET", "/account")
        assert account["email_address"] == f"amani@{DOMAIN}" and account["object"] == "account"
    token_id = re.search(r'name="token_id" value="(\d+)"', listed).group(1)
    browser.post("/settings/tokens", data={"action": "revoke", "token_id": token_id})
    refused = Api(api_url, token).get("/account")
    assert refused.status_code == 401
    assert refused.json()["type"] == "invalid_request_error"
    assert refused.headers["WWW-Authenticate"].startswith("Basic")


def test_requests_without_a_valid_token_are_refused(api_url, api, store):
    amani = api("amani")
    with store.write() as conn:
        users.set_suspended(conn, int(amani.ok("GET", "/account")["id"]), True)
    assert amani.get("/account").status_code == 401  # a suspended user's tokens stop working
    for headers in ({}, {"Authorization": "Bearer mpt_guessed"}, {"Authorization": "Basic !!!"},
                    {"Authorization": "Digest x"}):
        response = requests.get(api_url + "/messages", headers=headers, timeout=10)
        assert response.status_code == 401, headers
        assert set(response.json()) == {"message", "type"}


def test_the_settings_page_needs_a_name_and_a_session(client, make_user):
    make_user("amani")
    assert client().get("/settings/tokens").url.endswith("/login?next=%2Fsettings%2Ftokens")
    refused = client("amani").post("/settings/tokens", data={"name": "  "})
    assert refused.status_code == 400 and "new-token" not in refused.text


def test_a_token_reaches_only_its_own_users_mail(api, receive):
    asha, baraka = api("asha"), api("baraka")
    receive(["asha"], "For Asha only", 1_700_000_000)
    draft = baraka.ok("POST", "/drafts", json={"subject": "Baraka's draft", "to": []})
    upload = baraka.ok("POST", "/files", files={"file": ("secret.txt", b"secret")})[0]
    mine = asha.ok("GET", "/messages")
    assert [m["subject"] for m in mine] == ["For Asha only"]
    assert baraka.ok("GET", "/messages") == [] and baraka.ok("GET", "/threads") == []
    message_id, thread_id = mine[0]["id"], mine[0]["thread_id"]
    for path in (f"/messages/{message_id}", f"/threads/{thread_id}", f"/drafts/{draft['id']}",
                 f"/files/{upload['id']}", f"/files/{upload['id']}/download"):
        intruder = asha if "draft" in path or "file" in path else baraka
        assert intruder.get(path).status_code == 404, path
    assert baraka.put(f"/messages/{message_id}", json={"starred": True}).status_code == 404
    assert [c["email"] for c in asha.ok("GET", "/contacts")] == ["out@example.org"]
    assert baraka.ok("GET", "/contacts") == []
    assert asha.ok("GET", "/files") == []
    assert asha.ok("GET", "/drafts") == []
