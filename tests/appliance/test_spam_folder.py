"""Spam on the box (issue #16): the "Held as spam" folder, bringing a held message, the spam and
not-spam buttons, and the admin's and users' download settings, each as the next upload pouch
carries it to the relay."""

import json
import re
import time

import pytest
import sqlalchemy as sa

from appliance.store import relay_requests, sync_state
from appliance.store.tables import held_messages
from pouch.records import (REQUEST_HELD, BoxSettingsRecord, HeldRecord, MessageRecord, RefusalRecord,
                           RequestRecord, VerdictRecord)
from tests.appliance.conftest import DOMAIN
from tests.appliance.test_external_accounts import import_records, pack, relay_takes

ASKED = "asked for, coming with the next sync"


def held_line(record_id="held-1", to=("amani",), subject="You have won a lottery", until=None):
    return HeldRecord(id=record_id, from_=[("Lucky Draw", "win@lottery.example")], subject=subject,
                      size=48_213, score=17.4, date=int(time.time()) - 3600,
                      recipients=[f"{name}@{DOMAIN}" for name in to],
                      until=int(time.time()) + 7 * 86400 if until is None else until)


def the_message(record_id="held-1", to=("amani",), subject="You have won a lottery"):
    return MessageRecord(id=record_id, from_=[("Lucky Draw", "win@lottery.example")],
                         to=[("", f"{name}@{DOMAIN}") for name in to], subject=subject,
                         date=int(time.time()) - 3600, body="Send us your bank details.",
                         recipients=[f"{name}@{DOMAIN}" for name in to])


def line_ids(page):
    return re.findall(r'<li id="h(\d+)">', page)


@pytest.fixture
def amani(make_user, client):
    make_user("amani")
    return client("amani")


@pytest.fixture
def baraka(make_user, client):
    make_user("baraka")
    return client("baraka")


@pytest.fixture
def admin(make_user, client):
    make_user("mama", is_admin=True)
    return client("mama")


# -- held lines ---------------------------------------------------------------------------


def test_a_held_line_shows_to_its_recipient_only(amani, baraka, store, tmp_path):
    imported = import_records(store, tmp_path, held_line())
    assert imported.held == 1
    page = amani.get("/folder/held").text
    assert "You have won a lottery" in page and "win@lottery.example" in page
    assert "47.1 KB" in page and "17.4" in page and "Bring it" in page
    assert "Held as spam" in amani.get("/").text  # in the menu
    assert "You have won a lottery" not in baraka.get("/folder/held").text
    assert "You have won a lottery" not in amani.get("/").text  # never in the inbox


def test_bringing_asks_once_whoever_clicks_and_the_message_replaces_its_line(amani, baraka, store, tmp_path):
    import_records(store, tmp_path, held_line(to=("amani", "baraka")))
    [amani_line] = line_ids(amani.get("/folder/held").text)
    [baraka_line] = line_ids(baraka.get("/folder/held").text)
    assert ASKED in amani.post(f"/held/{amani_line}/bring").text
    assert ASKED in baraka.post(f"/held/{baraka_line}/bring").text  # one request serves both
    contents, records = pack(store, tmp_path)
    assert [(type(r), r.what, r.message_id) for r in records] == [(RequestRecord, REQUEST_HELD, "held-1")]
    relay_takes(store, contents)
    assert pack(store, tmp_path) == (None, [])  # delivered: not asked again
    assert ASKED in amani.get("/folder/held").text  # it comes with the next sync
    import_records(store, tmp_path, the_message(to=("amani", "baraka")), name="relay/down/2.pouch")
    assert line_ids(amani.get("/folder/held").text) == [] == line_ids(baraka.get("/folder/held").text)
    assert "You have won a lottery" in amani.get("/").text
    with store.read() as conn:
        assert not relay_requests.is_requested(conn, REQUEST_HELD, "held-1")


def test_a_request_the_relay_refuses_shows_its_reason_and_may_be_asked_again(amani, store, tmp_path):
    import_records(store, tmp_path, held_line(), held_line("held-2", subject="Cheap watches"))
    for line in line_ids(amani.get("/folder/held").text):
        amani.post(f"/held/{line}/bring")
    relay_takes(store, pack(store, tmp_path)[0])
    reason = "the relay no longer holds this message <it was cleared>"
    imported = import_records(store, tmp_path, RefusalRecord("held-1", REQUEST_HELD, reason=reason),
                              RefusalRecord("held-9", REQUEST_HELD, reason="never asked"), name="relay/down/2.pouch")
    assert imported.refused == 1  # the one no one asked for changes nothing
    lines = {re.search(r'<span class="subject">([^<]*)<', block).group(1): (line_id, block)
             for line_id, block in re.findall(r'<li id="h(\d+)">(.*?)</li>', amani.get("/folder/held").text, re.S)}
    refused_id, refused = lines["You have won a lottery"]
    assert "The relay could not bring it: the relay no longer holds this message &lt;it was cleared&gt;" in refused
    assert ASKED not in refused and "Bring it" in refused
    assert ASKED in lines["Cheap watches"][1] and "could not" not in lines["Cheap watches"][1]
    assert ASKED in amani.post(f"/held/{refused_id}/bring").text  # asking again needs no wait
    _, [again] = pack(store, tmp_path)
    assert (again.what, again.message_id) == (REQUEST_HELD, "held-1")


def test_an_upload_in_flight_remembers_the_requests_it_carries(amani, store, tmp_path):
    """A box restarted mid-upload reads its upload back from box_state: what the relay then takes
    is done, and nothing is asked twice."""
    import_records(store, tmp_path, held_line())
    amani.post(f"/held/{line_ids(amani.get('/folder/held').text)[0]}/bring")
    contents, [request] = pack(store, tmp_path)
    saved = sync_state.Upload(path=str(tmp_path / "outgoing.pouch"), size=1, contents=contents).to_json()
    relay_takes(store, sync_state.Upload.from_json(json.loads(json.dumps(saved))).contents)
    assert pack(store, tmp_path) == (None, [])


def test_a_line_for_mail_already_here_or_past_its_time_is_not_shown(amani, store, tmp_path):
    import_records(store, tmp_path, the_message("held-1"), held_line("held-1"),
                   held_line("held-2", subject="Cleared already", until=int(time.time()) - 1),
                   held_line("held-3", subject="Cleared later"))
    page = amani.get("/folder/held").text
    assert "Cleared later" in page and len(line_ids(page)) == 1
    with store.write() as conn:  # the relay's retention passes
        conn.execute(held_messages.update().values(until=int(time.time()) - 1))
    assert line_ids(amani.get("/folder/held").text) == []


def test_no_one_brings_a_line_that_is_not_theirs_nor_without_the_forms_token(amani, baraka, store, tmp_path):
    import_records(store, tmp_path, held_line())
    [line] = line_ids(amani.get("/folder/held").text)
    assert baraka.post(f"/held/{line}/bring").status_code == 404
    forged = amani.post(f"/held/{line}/bring", data={"_xsrf": "forged"})
    assert forged.status_code == 403
    assert pack(store, tmp_path) == (None, [])


def test_not_spam_on_a_held_line_teaches_the_relay_and_brings_it(amani, store, tmp_path):
    import_records(store, tmp_path, held_line())
    [line] = line_ids(amani.get("/folder/held").text)
    assert ASKED in amani.post(f"/held/{line}/not_spam").text
    _, records = pack(store, tmp_path)
    verdicts = [(r.message_id, r.spam, r.user) for r in records if isinstance(r, VerdictRecord)]
    requests = [(r.what, r.message_id) for r in records if isinstance(r, RequestRecord)]
    assert verdicts == [("held-1", False, f"amani@{DOMAIN}")] and requests == [(REQUEST_HELD, "held-1")]


# -- spam and not spam on a message ----------------------------------------------------


def test_marking_mail_from_the_relay_spam_moves_it_to_the_trash_and_tells_the_relay(amani, store, tmp_path):
    import_records(store, tmp_path, the_message("in-7", subject="Cheap watches"))
    thread = re.search(r'href="(/thread/\d+)#m(\d+)"', amani.get("/").text)
    page = amani.get(thread[1]).text
    assert ">Spam</button>" in page
    amani.post(f"/message/{thread[2]}/spam", data={"next": "/"})
    assert "Cheap watches" not in amani.get("/").text and "Cheap watches" in amani.get("/folder/trash").text
    contents, [verdict] = pack(store, tmp_path)
    assert (verdict.message_id, verdict.spam) == ("in-7", True)
    amani.post(f"/message/{thread[2]}/not_spam")  # changed their mind before the sync
    _, [verdict] = pack(store, tmp_path)
    assert verdict.spam is False and "Cheap watches" in amani.get("/").text
    relay_takes(store, contents)  # the pouch with the older verdict: the newer one stays owed
    assert [r.spam for r in pack(store, tmp_path)[1]] == [False]


def test_mail_between_users_of_the_box_has_no_spam_button(amani, baraka, store, tmp_path):
    baraka.post("/compose", data={"to": f"amani@{DOMAIN}", "subject": "Lunch?", "body": "At noon."})
    thread = re.search(r'href="(/thread/\d+)#m(\d+)"', amani.get("/").text)
    assert ">Spam</button>" not in amani.get(thread[1]).text
    assert amani.post(f"/message/{thread[2]}/spam", data={"next": "/"}).status_code == 200
    assert not [r for r in pack(store, tmp_path)[1] if isinstance(r, VerdictRecord)]
    assert "Lunch?" in amani.get("/").text


# -- the box's settings ------------------------------------------------------------------


def settings_owed(store, tmp_path):
    return [r for r in pack(store, tmp_path)[1] if isinstance(r, BoxSettingsRecord)]


def test_the_admin_sets_the_threshold_and_the_limit_and_the_relay_gets_the_latest(admin, store, tmp_path):
    page = admin.get("/admin/downloads").text
    assert 'value="5"' in page and 'value="200"' in page  # the defaults
    admin.post("/admin/downloads", data={"spam_threshold": "6", "attachment_limit_kb": "300"})
    admin.post("/admin/downloads", data={"spam_threshold": "7.5", "attachment_limit_kb": "100"})
    [record] = settings_owed(store, tmp_path)
    assert (record.spam_threshold, record.attachment_limit, record.user_limits) == (7.5, 100 * 1024, {})
    refused = admin.post("/admin/downloads", data={"spam_threshold": "25", "attachment_limit_kb": "100"})
    assert refused.status_code == 400 and "1 to 20" in refused.text
    assert [r.spam_threshold for r in settings_owed(store, tmp_path)] == [7.5]
    relay_takes(store, pack(store, tmp_path)[0])
    assert settings_owed(store, tmp_path) == []


def test_only_an_admin_changes_the_boxs_settings(amani, store, tmp_path):
    assert amani.post("/admin/downloads", data={"spam_threshold": "1", "attachment_limit_kb": "0"}).status_code == 403
    assert amani.get("/admin/downloads").status_code == 403
    assert settings_owed(store, tmp_path) == []


def test_a_user_lowers_their_own_limit_but_never_over_the_admins(admin, baraka, store, tmp_path):
    admin.post("/admin/downloads", data={"spam_threshold": "5", "attachment_limit_kb": "100"})
    assert 'max="100"' in baraka.get("/settings/downloads").text
    refused = baraka.post("/settings/downloads", data={"limit_kb": "300"})
    assert refused.status_code == 400 and "100 KB" in refused.text
    baraka.post("/settings/downloads", data={"limit_kb": "40"})
    [record] = settings_owed(store, tmp_path)
    assert (record.attachment_limit, record.user_limits) == (100 * 1024, {f"baraka@{DOMAIN}": 40 * 1024})
    assert 'value="40"' in baraka.get("/settings/downloads").text
    baraka.post("/settings/downloads", data={"action": "box"})
    [record] = settings_owed(store, tmp_path)
    assert record.user_limits == {}


def test_settings_forms_need_their_token(admin, baraka, store, tmp_path):
    assert admin.post("/admin/downloads", data={"_xsrf": "x", "spam_threshold": "3",
                                                "attachment_limit_kb": "10"}).status_code == 403
    assert baraka.post("/settings/downloads", data={"_xsrf": "x", "limit_kb": "10"}).status_code == 403
    assert settings_owed(store, tmp_path) == []
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(relay_requests.relay_requests)).scalar() == 0
