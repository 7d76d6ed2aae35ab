"""Account, folders, contacts and files over HTTP."""

from tests.api.conftest import DOMAIN


def test_account_and_folders(api):
    asha = api("asha")
    account = asha.ok("GET", "/account")
    assert account["email_address"] == f"asha@{DOMAIN}" and account["name"] == "Asha"
    folders = asha.ok("GET", "/folders")
    assert [f["name"] for f in folders] == ["inbox", "outbox", "sent", "drafts", "trash"]
    assert all(f["object"] == "folder" and f["account_id"] == account["id"] for f in folders)
    assert asha.ok("GET", "/folders/inbox")["display_name"] == "Inbox"
    assert asha.ok("GET", "/folders", params={"limit": 2, "offset": 1, "view": "ids"}) == [
        "outbox", "sent"]
    assert asha.get("/folders/spam").status_code == 404


def test_contacts_are_learned_from_mail(api, receive):
    asha = api("asha")
    receive(["asha"], "Hi", 1_700_000_000, sender=("Mama", "mama@example.net"))
    asha.ok("POST", "/send", json={"subject": "x", "to": [{"name": "Juma", "email": "juma@example.org"}]})
    contacts = asha.ok("GET", "/contacts")
    assert {(c["name"], c["email"]) for c in contacts} == {
        ("Mama", "mama@example.net"), ("Juma", "juma@example.org")}
    one = asha.ok("GET", f"/contacts/{contacts[0]['id']}")
    assert one == contacts[0] and one["object"] == "contact"
    assert asha.ok("GET", "/contacts", params={"email": "JUMA@example.org"})[0]["name"] == "Juma"
    assert asha.ok("GET", "/contacts", params={"view": "count"}) == {"count": 2}
    assert asha.get("/contacts/0").status_code == 404


def test_files_upload_list_and_download(api, receive):
    asha = api("asha")
    uploaded = asha.ok("POST", "/files", files={"file": ("map.png", b"\x89PNG fake", "image/png")})
    assert [(f["filename"], f["size"], f["content_type"]) for f in uploaded] == [
        ("map.png", 9, "image/png")]
    file_id = uploaded[0]["id"]
    assert asha.ok("GET", f"/files/{file_id}")["filename"] == "map.png"
    download = asha.get(f"/files/{file_id}/download")
    assert download.content == b"\x89PNG fake"
    assert download.headers["Content-Disposition"].startswith("attachment")
    head = asha.head(f"/files/{file_id}/download")  # what a client asks before it fetches a file
    assert head.status_code == 200 and head.headers["Content-Length"] == "9" and head.content == b""
    asha.ok("POST", "/send", json={"subject": "Map", "to": [{"name": "", "email": "a@example.org"}],
                                   "file_ids": [file_id]})
    listed = asha.ok("GET", "/files")
    assert [f["filename"] for f in listed] == ["map.png", "map.png"]  # attached, and the upload
    attached = listed[0]
    assert attached["id"].startswith("a") and attached["message_ids"]
    assert asha.get(f"/files/{attached['id']}/download").content == b"\x89PNG fake"
    assert asha.ok("GET", "/files", params={"filename": "other.txt"}) == []
    assert asha.ok("GET", "/files", params={"view": "count"}) == {"count": 2}
    assert asha.post("/files", data=b"raw").status_code == 400
    assert asha.get("/files/x1").status_code in (400, 404)
