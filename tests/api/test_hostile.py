"""Hostile and odd clients against a real box: every refusal is a 4xx in the sync-engine's
JSON ({"message", "type"}) with the box's security headers, never a 500, a dropped
connection or a wait for nothing."""

import gzip
import hashlib
import json
import subprocess
import threading
import time

import pytest
import requests

from appliance.api import delta
from appliance.http_headers import HEADERS
from appliance.store import boxinfo, uploads
from pouch.records import Attachment

FRIEND = [{"name": "Friend", "email": "friend@example.org"}]
# What a confused or hostile client puts where a string, list, id or flag belongs.
GARBAGE = [1, -1, 1.5, True, "", "x", [1], {"a": 1}, [[[]]], "\x00", 2**70]


def refused(response, status=400):
    """A refusal a client can read, with the headers every answer of the box carries."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert body["type"] == "invalid_request_error" and body["message"], body
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    return body["message"]


def test_a_body_over_its_limit_is_a_json_413_and_the_client_goes_on(api, box_url, store):
    asha = api("asha")
    message = refused(asha.post("/drafts", json={"body": "x" * 1_100_000}), 413)
    assert "1,048,576 bytes" in message
    assert asha.ok("GET", "/account")["object"] == "account"  # the same client, a new connection
    at_root = requests.post(box_url + "/drafts", auth=asha.auth, json={"body": "x" * 1_100_000},
                            timeout=20)
    assert refused(at_root, 413) == message and at_root.headers["Connection"] == "close"
    with store.write() as conn:
        boxinfo.put(conn, boxinfo.MAX_ATTACHMENTS_MB, 1)
    upload = asha.post("/files", files={"file": ("film.mp4", b"x" * 2_500_000)})
    assert "a file at most 1,048,576 bytes" in refused(upload, 413)
    assert asha.ok("GET", "/files") == []
    small = asha.ok("POST", "/files", files={"file": ("note.txt", b"x" * 1000)})
    assert small[0]["size"] == 1000


def test_json_nested_past_recursion_is_a_400(api, receive):
    asha = api("asha")
    receive(["asha"], "Hello", 1_700_000_000)
    [message] = asha.ok("GET", "/messages")
    draft = asha.ok("POST", "/drafts", json={"subject": "Plan"})
    deep = b"[" * 100_000 + b"]" * 100_000
    for method, path in (("POST", "/drafts"), ("POST", "/send"), ("PUT", f"/drafts/{draft['id']}"),
                         ("PUT", f"/messages/{message['id']}"), ("POST", "/delta/generate_cursor"),
                         ("PUT", f"/threads/{message['thread_id']}")):
        assert "not valid JSON" in refused(asha.request(method, path, data=deep)), path


def test_wrong_json_types_in_every_field_are_400s(api, receive):
    asha = api("asha")
    receive(["asha"], "Hello", 1_700_000_000)
    [message] = asha.ok("GET", "/messages")
    draft = asha.ok("POST", "/drafts", json={"subject": "Plan", "to": FRIEND})
    writes = [("POST", "/drafts", {}), ("POST", "/send", {"to": FRIEND}),
              ("PUT", f"/drafts/{draft['id']}", {"version": draft["version"]}),
              ("PUT", f"/messages/{message['id']}", {}), ("PUT", f"/threads/{message['thread_id']}", {})]
    fields = ("subject", "body", "to", "from", "file_ids", "reply_to_message_id", "version",
              "draft_id", "unread", "folder_id", "reply_to", "object", "account_id")
    for method, path, base in writes:
        for field in fields:
            for value in GARBAGE:
                response = asha.request(method, path, json={**base, field: value})
                assert response.status_code < 500, (method, path, field, value, response.text)
                if response.status_code >= 400:
                    refused(response, response.status_code)
    assert asha.ok("GET", f"/messages/{message['id']}")["subject"] == "Hello"


def test_a_thread_sent_back_with_a_reply_to_is_refused_not_a_500(api, receive):
    asha = api("asha")
    receive(["asha"], "Hello", 1_700_000_000)
    [thread] = asha.ok("GET", "/threads")
    answer = asha.put(f"/threads/{thread['id']}", json={**thread, "reply_to": FRIEND})
    assert "reply_to" in refused(answer)
    assert asha.ok("PUT", f"/threads/{thread['id']}", json={**thread, "reply_to": []})["id"] == thread["id"]


def test_a_cursor_the_box_never_gave_out_is_refused_at_once(api, receive):
    asha = api("asha")
    receive(["asha"], "Hello", 1_700_000_000)
    latest = asha.ok("POST", "/delta/latest_cursor")["cursor"]
    assert asha.ok("GET", "/delta", params={"cursor": latest})["deltas"] == []
    ahead = str(int(latest) + 1000)  # from another box, an older card, or made up
    assert "latest_cursor" in refused(asha.get("/delta", params={"cursor": ahead}))
    for path in ("/delta/longpoll", "/delta/streaming"):  # they would wait, then say nothing
        assert "latest_cursor" in refused(asha.get(path, params={"cursor": ahead, "timeout": "2"}))
    receive(["asha"], "Again", 1_700_000_100)
    assert [d["object"] for d in asha.ok("GET", "/delta", params={"cursor": latest})["deltas"]]


def test_head_is_get_without_a_body_and_options_and_405_say_what_is_allowed(api, receive):
    asha = api("asha")
    receive(["asha"], "Hello", 1_700_000_000)
    listed = asha.get("/messages")
    head = asha.head("/messages")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(listed.content))
    upload = asha.ok("POST", "/files", files={"file": ("note.txt", b"0123456789")})[0]
    download = asha.head(f"/files/{upload['id']}/download")
    assert download.status_code == 200 and download.headers["Content-Length"] == "10"
    assert asha.head("/nothing").status_code == 404
    not_here = asha.post("/messages")
    refused(not_here, 405)
    assert not_here.headers["Allow"] == "GET, HEAD, OPTIONS"
    send = asha.head("/send")
    assert send.status_code == 405 and send.headers["Allow"] == "POST, OPTIONS"
    options = requests.options(f"{asha.base_url}/drafts/{upload['id'][1:]}", timeout=20)
    assert options.status_code == 204 and options.headers["Allow"] == "GET, PUT, DELETE, HEAD, OPTIONS"
    assert options.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]


def test_a_multipart_body_tornado_cannot_read_says_why(api):
    """Tornado 6.5 and later refuse such part headers (the relay's); 6.2, Debian's and the box's,
    reads them: either way the client hears why, or the file keeps a name safe to show."""
    asha = api("asha")
    for name in ("x" * 10240, "a\x00b.txt"):  # a part header over 10 KB; a NUL in a header
        answer = asha.post("/files", files={"file": (name, b"data")})
        if answer.status_code == 200:
            [kept] = answer.json()
            assert "\x00" not in kept["filename"] and 0 < len(kept["filename"]) <= 255
        else:
            message = refused(answer)
            assert "multipart" in message and message != "Bad Request"
    assert all(len(kept["filename"]) <= 255 for kept in asha.ok("GET", "/files"))


def test_line_breaks_in_a_subject_or_name_are_spaces_as_the_mail_carries_them(api):
    asha = api("asha")
    sent = asha.ok("POST", "/send", json={
        "subject": "Plan\r\nBcc: spy@example.org", "body": "Hello",
        "to": [{"name": "Friend\r\nX-Injected: yes", "email": "friend@example.org"}]})
    assert sent["subject"] == "Plan Bcc: spy@example.org"
    assert sent["to"] == [{"name": "Friend X-Injected: yes", "email": "friend@example.org"}]
    raw = asha.get(f"/messages/{sent['id']}", headers={"Accept": "message/rfc822"}).content
    head = raw.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert not [line for line in head if line.startswith((b"Bcc", b"X-Injected"))]
    crlf = asha.post("/send", json={"to": [{"email": "friend@example.org\r\nBcc: spy@example.org"}]})
    assert "not an email address" in refused(crlf)


def test_file_names_from_raw_mime_and_mail_are_made_safe_to_show(api, receive):
    asha = api("asha")
    raw = (b"To: friend@example.org\r\nSubject: Files\r\n"
           b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\n"
           b"Hello\r\n--q\r\nContent-Type: application/pdf\r\n"
           b"Content-Disposition: attachment; filename=\"../../invoice\xe2\x80\xaefdp.exe\"\r\n\r\n"
           b"abc\r\n--q--\r\n")
    sent = asha.ok("POST", "/send", data=raw, headers={"Content-Type": "Message/RFC822"})
    assert [f["filename"] for f in sent["files"]] == ["invoicefdp.exe"]
    data = b"%PDF-1.4"
    receive(["asha"], "Invoice", 1_700_000_000, attachments=[Attachment(
        "invoice\u202efdp.exe", "application/pdf", len(data), hashlib.sha256(data).digest())],
        blobs={hashlib.sha256(data).digest(): data})
    names = {f["filename"] for f in asha.ok("GET", "/files")}
    assert names == {"invoicefdp.exe"}


def test_a_file_type_that_is_no_type_is_the_one_its_name_says(api):
    asha = api("asha")
    for claimed in ("garbage", "a/b/c", "multipart/mixed"):  # (a NUL in it: Tornado's readable 400)
        [uploaded] = asha.ok("POST", "/files", files={"file": ("menu.pdf", b"%PDF-1.4", claimed)})
        assert uploaded["content_type"] == "application/pdf", claimed
    sent = asha.ok("POST", "/send", json={"to": FRIEND, "subject": "Menu", "file_ids": [uploaded["id"]]})
    assert [(f["filename"], f["content_type"]) for f in sent["files"]] == [("menu.pdf", "application/pdf")]


def test_a_compressed_body_is_refused_saying_so(api):
    asha = api("asha")
    packed = gzip.compress(json.dumps({"subject": "Plan"}).encode())
    answer = asha.post("/drafts", data=packed, headers={"Content-Encoding": "gzip",
                                                        "Content-Type": "application/json"})
    assert "uncompressed" in refused(answer, 415)
    assert asha.ok("GET", "/drafts") == []


def test_a_client_uploading_in_a_loop_is_stopped_at_the_day_s_bytes(api, monkeypatch):
    monkeypatch.setattr(uploads, "DAY_BYTES", 5000)  # 300 MB in the box; the rule is the same
    asha, baraka = api("asha"), api("baraka")
    for _ in range(2):
        asha.ok("POST", "/files", files={"file": ("photo.jpg", b"x" * 2000)})
    stopped = asha.post("/files", files={"file": ("photo.jpg", b"x" * 2000)})
    assert "a day" in refused(stopped, 429)
    assert len(asha.ok("GET", "/files")) == 2
    assert baraka.ok("POST", "/files", files={"file": ("mine.jpg", b"x" * 2000)})[0]["size"] == 2000


def test_a_client_opening_streams_in_a_loop_gets_a_429_past_a_few(api):
    asha, baraka = api("asha"), api("baraka")
    query = {"cursor": "0", "timeout": "60"}
    open_ones = [asha.get("/delta/streaming", params=query, stream=True) for _ in range(delta.MAX_WAITING)]
    assert all(answer.status_code == 200 for answer in open_ones)
    assert "close one" in refused(asha.get("/delta/longpoll", params=query), 429)
    assert baraka.get("/delta/streaming", params={**query, "timeout": "0"}).status_code == 200
    for answer in open_ones:
        answer.close()
    deadline = time.monotonic() + 20  # the box notices each closed stream at its next poll
    while asha.get("/delta/longpoll", params={**query, "timeout": "0"}).status_code == 429:
        assert time.monotonic() < deadline, "the closed streams still count"
        time.sleep(0.2)


def test_concurrent_edits_of_one_draft_one_wins_the_rest_get_409(api):
    asha = api("asha")
    draft = asha.ok("POST", "/drafts", json={"subject": "Plan", "to": FRIEND})
    answers = []

    def edit(number):
        answers.append(asha.put(f"/drafts/{draft['id']}",
                                json={"subject": f"Plan {number}", "version": draft["version"]}))

    editors = [threading.Thread(target=edit, args=(number,)) for number in range(6)]
    for editor in editors:
        editor.start()
    for editor in editors:
        editor.join()
    won = [answer.json() for answer in answers if answer.status_code == 200]
    assert len(won) == 1 and sorted(a.status_code for a in answers) == [200] + [409] * 5
    for answer in answers:
        if answer.status_code == 409:
            assert "new version" in refused(answer, 409)
    assert asha.ok("GET", f"/drafts/{draft['id']}")["subject"] == won[0]["subject"]
    stale = asha.post("/send", json={"draft_id": draft["id"], "version": draft["version"]})
    refused(stale, 409)
    assert asha.ok("GET", "/messages", params={"in": "outbox"}) == []


def test_a_full_card_is_a_507_that_says_so_and_saves_nothing(api, store, tmp_path):
    asha = api("asha")
    files = store.attachment_files.directory
    files.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(files)],
                             capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        assert asha.ok("POST", "/files", files={"file": ("note.txt", b"x" * 1000)})[0]["size"] == 1000
        full = asha.post("/files", files={"file": ("photo.jpg", b"x" * 100_000)})
        assert full.status_code == 507 and "storage is full" in full.json()["message"]
        assert full.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]
        assert [f["filename"] for f in asha.ok("GET", "/files")] == ["note.txt"]
    finally:
        subprocess.run(["umount", str(files)], check=True)


def test_an_address_mail_cannot_carry_7_bit_is_refused_before_it_queues(api):
    asha = api("asha")
    for address in ("\uff41@example.org", "a\x01b@example.org", "caf\u00e9@example.org"):
        answer = asha.post("/send", json={"to": [{"email": address}], "subject": "Hello"})
        assert "not an email address" in refused(answer), address
    assert asha.ok("GET", "/messages", params={"in": "outbox"}) == []
    fine = asha.ok("POST", "/send", json={"to": [{"email": "o'brien+news@mail.example.ie"}]})
    assert fine["to"][0]["email"] == "o'brien+news@mail.example.ie"


def test_a_nul_or_a_lone_surrogate_anywhere_in_json_is_a_400_that_says_so(api):
    asha = api("asha")
    for body in ('{"subject": "seeds\\u0000"}', '{"to": [{"email": "a@b.example", "name": "\\ud800"}]}',
                 '{"subject": "fine", "metadata": {"\\u0000": 1}}'):
        response = asha.post("/drafts", data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert "NUL" in response.json()["message"], body
    assert asha.ok("GET", "/drafts") == []
