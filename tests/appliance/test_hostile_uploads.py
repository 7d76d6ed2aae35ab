"""Files too big for the box and text too long, as phones send them: the form comes back with the
reason and what was typed (never the browser's own error page for a cut connection, nor an error
page instead of the form), and a camera photo bigger than the limit is still sent once shrunk."""

import pytest
import requests

from appliance.store import boxinfo
from tests.appliance.conftest import DOMAIN
from tests.appliance.test_browser import sign_in, write
from tests.appliance.test_compose_once import new_form
from tests.appliance.test_send_smaller import queued_files
from tests.support.photos import phone_photo

FORTY_MB = 40 * 1024 * 1024


def test_a_40_mb_file_gives_the_form_back_with_the_reason_and_the_text(client, make_user, store):
    make_user("asha")
    asha = client("asha")
    form = {"form_token": new_form(asha), "to": "friend@example.org", "subject": "The video",
            "body": "Here is the whole wedding", "action": "send"}
    try:
        refused = asha.post("/compose", data=form, files={"files": ("wedding.mp4", b"\0" * FORTY_MB, "video/mp4")})
    except requests.ConnectionError:  # the box hung up after the limit: no page at all
        pytest.fail("the box cut the connection instead of answering with the form")
    assert refused.status_code == 400
    assert "The attachments are too big together (40.0 MB); the limit is 10.0 MB" in refused.text
    assert 'value="The video"' in refused.text and "Here is the whole wedding" in refused.text
    assert 'value="friend@example.org"' in refused.text
    assert store.outbox() == []


def test_camera_photos_over_the_limit_are_sent_once_shrunk(client, make_user, store):
    make_user("asha")
    with store.write() as conn:
        boxinfo.put(conn, boxinfo.MAX_ATTACHMENTS_MB, 1)
    photos = [("IMG_0001.JPG", phone_photo(), "image/jpeg"), ("IMG_0002.JPG", phone_photo(quality=95), "image/jpeg")]
    assert sum(len(data) for _, data, _ in photos) > 2 * 1024 * 1024  # the limit and 1 MB of text beside it
    asha = client("asha")
    form = {"form_token": new_form(asha), "to": "friend@example.org", "subject": "Photo",
            "action": "send", "smaller": "1"}
    sent = asha.post("/compose", data=form, files=[("files", photo) for photo in photos])
    assert sent.url.endswith("/folder/outbox"), sent.text
    queued = queued_files(store)
    assert len(queued) == 2 and sum(len(data) for _, data in queued.values()) < 1024 * 1024
    # The same photos as they are stay over the limit: refused with the reason, unread.
    form["form_token"] = new_form(asha)
    del form["smaller"]
    refused = asha.post("/compose", data=form, files=[("files", photo) for photo in photos])
    assert refused.status_code == 400 and "the limit is 1.0 MB" in refused.text
    # 12 MB that claim to be a photo and are not: read, left as they are, refused with the reason.
    form["form_token"], form["smaller"] = new_form(asha), "1"
    fake = asha.post("/compose", data=form, files={"files": ("IMG_0003.JPG", b"\xff\xd8" * (6 * 1024 * 1024), "image/jpeg")})
    assert fake.status_code == 400 and "too big together (12.0 MB)" in fake.text


@pytest.mark.parametrize("script", [True, False], ids=["with script", "without script"])
def test_a_phone_choosing_a_40_mb_file_keeps_what_was_written(browser, box_url, make_user, tmp_path, script):
    make_user("asha")
    context = browser.new_context(base_url=box_url, viewport={"width": 360, "height": 740},
                                  java_script_enabled=script)
    context.set_default_timeout(20000)
    try:
        page = context.new_page()
        posted = []
        page.on("request", lambda request: posted.append(request.url)
                if request.method == "POST" and request.resource_type == "document" else None)
        sign_in(page, "asha")
        video = tmp_path / "wedding.mp4"
        video.write_bytes(b"\0" * FORTY_MB)
        write(page, f"friend@{DOMAIN}", "The video", "Here is the whole wedding", files=[str(video)])
        posted.clear()
        page.get_by_role("button", name="Send").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "too big together" in alert.inner_text().lower()
        assert page.get_by_label("Subject").input_value() == "The video"
        assert page.get_by_label("To").input_value() == f"friend@{DOMAIN}"
        text = page.locator(".editor") if script else page.get_by_label("Message")
        assert (text.inner_text() if script else text.input_value()).strip() == "Here is the whole wedding"
        if script:  # the page knew before sending 40 MB over the Wi-Fi
            assert posted == []
    finally:
        context.close()


def test_text_over_the_form_limit_gives_the_form_back_with_the_rest(client, make_user, store):
    make_user("asha")
    asha = client("asha")
    pasted = "<p>" + "A pasted report line. " * 100000 + "</p>"  # 2.2 MB: an editor's paste
    form = {"form_token": new_form(asha), "to": "friend@example.org", "subject": "The report",
            "format": "html", "html": pasted, "body": "", "action": "send"}
    refused = asha.post("/compose", data=form, files={"files": ("notes.txt", b"notes", "text/plain")})
    assert refused.status_code == 400
    assert "The text is too long to send (over 1.0 MB)" in refused.text
    assert 'value="The report"' in refused.text and 'value="friend@example.org"' in refused.text
    assert form["form_token"] in refused.text  # the same form: the tab's copy of the text comes back
    assert store.outbox() == []


@pytest.mark.parametrize("path", ["/settings", "/login", "/admin/box", "/folder/inbox"])
def test_a_form_over_its_page_s_limit_gets_the_box_s_page_saying_so(client, make_user, path):
    """Before, the box cut the connection after 64 KB: a phone showed only its own error."""
    make_user("asha")
    asha = client("asha")
    try:
        refused = asha.post(path, data={"display_name": "x" * 100_000})
    except requests.RequestException:
        pytest.fail("the box cut the connection instead of answering")
    assert refused.status_code == 413
    assert "What was sent is too long for this page (97.7 KB; at most 64.0 KB)" in refused.text
    assert asha.get("/settings").status_code == 200  # and the next request is served


def test_a_long_paste_in_the_editor_comes_back_after_the_refusal(new_page, make_user):
    make_user("asha")
    page = new_page()
    sign_in(page, "asha")
    write(page, f"friend@{DOMAIN}", "The report", "start")
    page.locator(".editor").evaluate("""editor => {
        editor.innerHTML = "<p>" + "A pasted report line. ".repeat(60000) + "</p>";
        editor.dispatchEvent(new Event("input", {bubbles: true}));
    }""")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("alert").wait_for()
    assert "too long to send" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Subject").input_value() == "The report"
    assert page.locator(".editor").inner_text().startswith("A pasted report line.")


def test_a_file_name_in_latin_1_still_sends_the_mail(client, make_user, store):
    make_user("asha")
    sent = _post_file(client("asha"), b"caf\xe9.txt", b"text/plain")
    assert sent.url.endswith("/folder/outbox"), sent.text[:500]
    assert queued_files(store) == {"caf\u00e9.txt": ("text/plain", b"menu")}


@pytest.mark.parametrize("claimed", [b"image/pn\x00g", b"garbage", b"\xff\xfe/\xe9t", b"x/" + b"y" * 300,
                                     b"multipart/mixed", b""])
def test_a_file_type_a_phone_got_wrong_is_the_one_its_name_says_and_the_mail_goes(client, make_user, store, claimed):
    """Before, the type was kept as sent: one with a NUL made the mail fail at the next sync."""
    make_user("asha")
    sent = _post_file(client("asha"), b"menu.pdf", claimed)
    assert sent.url.endswith("/folder/outbox"), sent.text[:500]
    assert queued_files(store) == {"menu.pdf": ("application/pdf", b"menu")}


def _post_file(asha, filename, content_type):
    """The compose form sent with one file whose name and type are these bytes, as a phone may."""
    asha.get("/login")
    fields = {"_xsrf": asha.cookies["_xsrf"], "form_token": new_form(asha), "to": "friend@example.org",
              "subject": "Menu", "body": "see file", "action": "send"}
    body = b"".join(b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (name.encode(), value.encode())
                    for name, value in fields.items())
    body += (b'--B\r\nContent-Disposition: form-data; name="files"; filename="' + filename + b'"\r\n'
             b"Content-Type: " + content_type + b"\r\n\r\nmenu\r\n--B--\r\n")
    return requests.post(asha.base_url + "/compose", data=body, cookies=asha.cookies, timeout=20,
                         headers={"Content-Type": "multipart/form-data; boundary=B"})
