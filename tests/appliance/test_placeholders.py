"""Big attachments on request, on the box (issue 16): an attachment the relay holds back shows
as a placeholder (name, type, size, a preview of an image); "Get it" asks the relay once for
everyone who has the message; the bytes arriving in a later pouch make it an attachment; a
photo the relay shrank offers its original.  On the real box server, and on a 360 px phone."""

import hashlib
import re

import pytest

from appliance.store import relay_requests
from appliance.sync.importer import import_pouch
from pouch import images
from pouch.container import PouchWriter
from pouch.records import REQUEST_ATTACHMENT, REQUEST_ORIGINAL, Attachment, BlobRecord, MessageRecord
from tests.api.conftest import api, api_url  # noqa: F401 (fixtures)
from tests.appliance.conftest import DOMAIN
from tests.appliance.test_browser import sign_in
from tests.support.photos import phone_photo

RECORD_ID = "r-harvest"
REPORT = b"%PDF-1.4 the harvest report " + bytes(range(256)) * 2000  # 500 KB: over the automatic limit


@pytest.fixture(scope="module")
def photo():
    return phone_photo(size=(1200, 900))


def deliver(store, attachment, to=("neema", "baraka"), blobs=None):
    """Mail from outside for users of the box, as the relay's pouch carries it."""
    store.deliver_incoming(MessageRecord(
        id=RECORD_ID, from_=[("Farmer", "farmer@example.org")], subject="The harvest", date=1_700_000_000,
        body="The figures are attached.", recipients=[f"{name}@{DOMAIN}" for name in to],
        attachments=[attachment]), blobs or {})


def held_report(preview=b""):
    return Attachment("harvest-report.pdf", "application/pdf", len(REPORT), hashlib.sha256(REPORT).digest(),
                      held=True, preview=preview)


def thread_page(session):
    """The text of the session's thread page of the harvest mail, and its address."""
    thread_url = re.search(r'href="(/thread/\d+)#m\d+"', session.get("/").text).group(1)
    return session.get(thread_url).text, thread_url


def later_pouch(store, tmp_path, *blobs, name="box/down/later.pouch"):
    """A pouch from the relay that carries only bytes (what was asked for), imported."""
    path = tmp_path / "later.pouch"
    with open(path, "wb") as out, PouchWriter(out, sender="relay", recipient=store.domain) as pouch:
        for data in blobs:
            pouch.add(BlobRecord(hashlib.sha256(data).digest(), data))
    return import_pouch(store, path, name)


def requests_owed(store):
    with store.read() as conn:
        return relay_requests.pending(conn)[0]


def test_a_held_attachment_shows_its_name_type_size_and_preview(client, make_user, store, photo):
    make_user("neema"), make_user("baraka"), make_user("zawadi")
    preview = images.preview(photo)
    deliver(store, Attachment("maize-field.jpg", "image/jpeg", len(photo), hashlib.sha256(photo).digest(),
                              held=True, preview=preview))
    neema = client("neema")
    page, _ = thread_page(neema)
    assert "maize-field.jpg" in page and "image/jpeg" in page and "KB" in page
    assert "Get it" in page and "Waits on the relay until you ask for it." in page
    assert re.findall(r'href="/attachment/\d+"', page) == []  # nothing to download yet
    shown = re.search(r'<img src="(/attachment/\d+/preview)"', page).group(1)
    served = neema.get(shown)
    assert served.content == preview and served.headers["Content-Type"] in ("image/webp", "image/jpeg")
    assert client("zawadi").get(shown).status_code == 404  # not her mail
    assert client().get(shown, allow_redirects=False).status_code == 302  # signed out: to the sign-in
    assert neema.get(shown.replace("/preview", "")).status_code == 404  # its bytes are not here


def test_a_preview_that_is_no_image_is_not_kept(client, make_user, store):
    make_user("neema")
    deliver(store, held_report(preview=b"<html><script>alert(1)</script></html>"), to=("neema",))
    page, _ = thread_page(client("neema"))
    assert "harvest-report.pdf" in page and "application/pdf" in page and "500.0 KB" in page
    assert "/preview" not in page


def test_get_it_asks_the_relay_once_for_everyone_who_has_the_message(client, make_user, store):
    make_user("neema"), make_user("baraka")
    deliver(store, held_report())
    neema, baraka = client("neema"), client("baraka")
    page, thread_url = thread_page(neema)
    asked = neema.post(re.search(r'action="(/attachment/\d+/get)"', page).group(1))
    assert asked.url.endswith(thread_url + "#m" + re.search(r'id="m(\d+)"', page).group(1))
    assert "asked for, coming with the next sync" in asked.text and "Get it" not in asked.text
    theirs, _ = thread_page(baraka)
    assert "asked for, coming with the next sync" in theirs  # one request serves everyone
    baraka.post(re.search(r'action="(/attachment/\d+)', page).group(1) + "/get")  # an old page's button
    owed = requests_owed(store)
    assert [(r.what, r.message_id, r.sha256) for r in owed] == [
        (REQUEST_ATTACHMENT, RECORD_ID, hashlib.sha256(REPORT).digest())]
    assert owed[0].user == f"neema@{DOMAIN}"


def test_the_bytes_asked_for_arriving_make_the_download_work(client, make_user, store, tmp_path):
    make_user("neema"), make_user("baraka")
    deliver(store, held_report())
    neema = client("neema")
    page, _ = thread_page(neema)
    neema.post(re.search(r'action="(/attachment/\d+/get)"', page).group(1))

    assert later_pouch(store, tmp_path, REPORT).attachments == 1
    for session in (neema, client("baraka")):  # each has a thread of their own
        arrived, _ = thread_page(session)
        assert "asked for" not in arrived and "Get it" not in arrived
        assert session.get(re.search(r'href="(/attachment/\d+)"', arrived).group(1)).content == REPORT
    with store.read() as conn:  # answered: not asked for again
        assert not relay_requests.is_requested(conn, REQUEST_ATTACHMENT, RECORD_ID, hashlib.sha256(REPORT).digest())


def test_a_photo_the_relay_shrank_offers_its_original(client, make_user, store, tmp_path, photo):
    make_user("neema")
    shrunk, kind = images.shrink(photo, max_side=600)
    deliver(store, Attachment("maize-field.webp" if kind == "image/webp" else "maize-field.jpg", kind,
                              len(shrunk), hashlib.sha256(shrunk).digest(), original_size=len(photo),
                              original_sha256=hashlib.sha256(photo).digest()),
            to=("neema",), blobs={hashlib.sha256(shrunk).digest(): shrunk})
    neema = client("neema")
    page, thread_url = thread_page(neema)
    assert neema.get(re.search(r'href="(/attachment/\d+)"', page).group(1)).content == shrunk
    size = re.search(r"Get the original \(([\d.]+ [KM]B)\)", page).group(1)
    asked = neema.post(re.search(r'action="(/attachment/\d+/get-original)"', page).group(1)).text
    assert "original asked for, coming with the next sync" in asked and "Get the original" not in asked
    assert [(r.what, r.sha256) for r in requests_owed(store)] == [(REQUEST_ORIGINAL, hashlib.sha256(photo).digest())]

    later_pouch(store, tmp_path, photo)
    arrived = neema.get(thread_url).text
    link = re.search(r'href="(/attachment/\d+/original)" download>original \(([^)]+)\)', arrived)
    assert link.group(2) == size
    original = neema.get(link.group(1))
    assert original.content == photo and "maize-field.jpg" in original.headers["Content-Disposition"]


def test_the_api_lists_a_held_file_with_its_state_and_asks_for_it(api, make_user, store, tmp_path):
    make_user("neema"), make_user("baraka")
    deliver(store, held_report())
    neema = api("neema")
    [listed] = neema.ok("GET", "/files")
    assert (listed["filename"], listed["size"], listed["state"]) == ("harvest-report.pdf", len(REPORT), "on_relay")
    waiting = neema.get(f"/files/{listed['id']}/download")
    assert waiting.status_code == 409
    assert "waits on the relay" in waiting.json()["message"] and f"/files/{listed['id']}/request" in waiting.json()["message"]

    assert neema.ok("POST", f"/files/{listed['id']}/request")["state"] == "requested"
    assert api("baraka").ok("GET", f"/files/{listed['id']}")["state"] == "requested"
    assert "next sync" in neema.get(f"/files/{listed['id']}/download").json()["message"]
    assert len(requests_owed(store)) == 1

    later_pouch(store, tmp_path, REPORT)
    assert neema.ok("GET", f"/files?message_id={listed['message_ids'][0]}")[0]["state"] == "downloaded"
    assert neema.get(f"/files/{listed['id']}/download").content == REPORT


def test_a_placeholder_fits_a_360px_phone_its_preview_shows_and_get_it_is_a_thumbs_tap(
        new_page, make_user, store, photo):
    make_user("neema")
    long_name = "Photo-du-champ-de-mais-au-nord-de-Kinshasa-" * 3 + ".jpg"  # no space to break at
    deliver(store, Attachment(long_name, "image/jpeg", len(photo), hashlib.sha256(photo).digest(),
                              held=True, preview=images.preview(photo)), to=("neema",))
    page = new_page()
    sign_in(page, "neema")
    page.get_by_role("link", name="The harvest").first.click()
    preview = page.get_by_role("img", name=f"Preview of {long_name}")
    preview.wait_for()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")  # loaded under the page's CSP
    box = preview.bounding_box()
    assert box["width"] > 50 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    button = page.get_by_role("button", name="Get it")
    tap = button.bounding_box()
    assert tap["height"] >= 40 and tap["x"] + tap["width"] <= 360
    button.click()
    assert page.get_by_text("asked for, coming with the next sync").is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
