"""Delta sync: cursors, create/modify/delete in order, merged repeats, paging,
longpoll waking on a change, streaming."""

import json
import threading
import time

import requests

FRIEND = [{"name": "Friend", "email": "friend@example.org"}]


def deltas(api, cursor, **query):
    return api.ok("GET", "/delta", params={"cursor": cursor, **query})


def test_create_update_delete_are_seen_in_order(api):
    asha = api("asha")
    start = asha.ok("POST", "/delta/latest_cursor")["cursor"]
    draft = asha.ok("POST", "/drafts", json={"subject": "One", "to": FRIEND})
    created = deltas(asha, start, include_types="draft")
    assert [(d["event"], d["id"]) for d in created["deltas"]] == [("create", draft["id"])]
    assert created["deltas"][0]["attributes"]["subject"] == "One"
    cursor = created["cursor_end"]
    asha.ok("PUT", f"/drafts/{draft['id']}", json={"subject": "Two", "version": 0})
    modified = deltas(asha, cursor, include_types="draft")
    assert [(d["event"], d["attributes"]["subject"]) for d in modified["deltas"]] == [("modify", "Two")]
    asha.ok("DELETE", f"/drafts/{draft['id']}", json={"version": 1})
    deleted = deltas(asha, modified["cursor_end"])
    assert [(d["object"], d["event"], d["id"]) for d in deleted["deltas"]] == [
        ("draft", "delete", draft["id"])]
    assert "attributes" not in deleted["deltas"][0]
    done = deltas(asha, deleted["cursor_end"])
    assert done["deltas"] == [] and done["cursor_end"] == done["cursor_start"]
    assert asha.ok("POST", "/delta/latest_cursor")["cursor"] == deleted["cursor_end"]


def test_repeated_changes_merge_and_pages_follow(api):
    asha = api("asha")
    start = asha.ok("POST", "/delta/latest_cursor")["cursor"]
    draft = asha.ok("POST", "/drafts", json={"subject": "v0"})
    for version in range(3):
        asha.ok("PUT", f"/drafts/{draft['id']}", json={"subject": f"v{version + 1}", "version": version})
    merged = deltas(asha, start, include_types="draft")["deltas"]
    assert [(d["event"], d["attributes"]["subject"]) for d in merged] == [("create", "v3")]
    assert deltas(asha, start, exclude_types="draft,thread")["deltas"] == []
    for number in range(120):  # more changes than one page holds
        asha.ok("POST", "/send", json={"subject": f"n{number}", "to": FRIEND})
    cursor, seen, pages = merged[0]["cursor"], [], 0
    while True:
        page = deltas(asha, cursor, include_types="message")
        if page["cursor_end"] == cursor:
            break
        seen += [d["attributes"]["subject"] for d in page["deltas"]]
        cursor, pages = page["cursor_end"], pages + 1
    assert seen == [f"n{number}" for number in range(120)] and pages > 1


def test_generate_cursor_from_a_time(api):
    asha = api("asha")
    asha.ok("POST", "/drafts", json={"subject": "old"})
    old = asha.ok("POST", "/delta/latest_cursor")["cursor"]
    time.sleep(1.1)
    later = int(time.time())
    asha.ok("POST", "/drafts", json={"subject": "new"})
    cursor = asha.ok("POST", "/delta/generate_cursor", json={"start": later})["cursor"]
    assert cursor == old
    subjects = [d["attributes"]["subject"] for d in deltas(asha, cursor, include_types="draft")["deltas"]]
    assert subjects == ["new"]
    for body in ({}, {"start": "today"}, {"start": True}):
        assert asha.post("/delta/generate_cursor", json=body).status_code == 400
    assert asha.get("/delta").status_code == 400
    assert asha.get("/delta", params={"cursor": "abc"}).status_code == 400
    assert asha.get("/delta", params={"cursor": 0, "include_types": "event"}).status_code == 400


def test_longpoll_wakes_within_a_second_of_a_change(api):
    asha = api("asha")
    cursor = asha.ok("POST", "/delta/latest_cursor")["cursor"]
    answer = {}

    def poll():
        started = time.monotonic()
        answer["json"] = asha.ok("GET", "/delta/longpoll", params={"cursor": cursor, "timeout": 20})
        answer["at"] = time.monotonic()
        answer["started"] = started

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(1)
    assert "json" not in answer  # nothing changed yet: still waiting
    changed_at = time.monotonic()
    asha.ok("POST", "/drafts", json={"subject": "wake up"})
    waiting.join(10)
    assert answer["json"]["deltas"][0]["attributes"]["subject"] == "wake up"
    assert answer["at"] - changed_at < 1.0
    quiet = asha.ok("GET", "/delta/longpoll", params={"cursor": answer["json"]["cursor_end"],
                                                      "timeout": 1})
    assert quiet["deltas"] == []


def test_streaming_sends_changes_as_they_happen(api, api_url):
    asha = api("asha")
    cursor = asha.ok("POST", "/delta/latest_cursor")["cursor"]
    threading.Timer(0.5, lambda: asha.ok("POST", "/drafts", json={"subject": "streamed"})).start()
    response = requests.get(api_url + "/delta/streaming", auth=asha.auth, stream=True, timeout=10,
                            params={"cursor": cursor, "timeout": 3, "include_types": "draft"})
    started = time.monotonic()
    line = next(response.iter_lines())
    assert json.loads(line)["attributes"]["subject"] == "streamed"
    assert time.monotonic() - started < 3
    response.close()
