"""Send smaller: a photo attached with "Send photos smaller" on (as the page offers it) is
queued at phone size; off, it is queued as it was chosen."""

import io
import re

from PIL import Image

from tests.appliance.test_compose_once import new_form
from tests.support.photos import phone_photo

PDF = b"%PDF-1.4 " + bytes(range(256)) * 40


def compose(session, smaller, files):
    """Send a message with ``files`` ((name, bytes, type)) from a fresh compose form."""
    page = session.get("/compose")
    assert re.search(r'<input type="checkbox" name="smaller" value="1" checked>', page.text)  # on by default
    form = {"form_token": new_form(session), "to": "friend@example.org", "subject": "Photo", "action": "send"}
    if smaller:
        form["smaller"] = "1"  # what the checked box sends
    response = session.post("/compose", data=form, files=[("files", file) for file in files])
    assert response.url.endswith("/folder/outbox"), response.text
    return response


def queued_files(store):
    """{name: (type, bytes)} of the one message waiting for the sync."""
    [record] = store.outbox()
    return {a.name: (a.type, store.attachment_files.read(a.sha256.hex())) for a in record.attachments}


def test_a_photo_sent_smaller_is_queued_at_phone_size(client, make_user, store):
    make_user("asha")
    photo = phone_photo()  # 4000x3000 stored, shown portrait, with GPS and camera EXIF
    outbox = compose(client("asha"), True, [("IMG_0001.JPG", photo, "image/jpeg"), ("report.pdf", PDF, "application/pdf")])

    files = queued_files(store)
    assert files["report.pdf"] == ("application/pdf", PDF)  # not a photo: as it was
    [(name, (mime_type, data))] = [(n, f) for n, f in files.items() if n != "report.pdf"]
    image = Image.open(io.BytesIO(data))
    assert image.size == (1200, 1600) and not image.getexif()  # phone-sized, still portrait, no EXIF
    assert mime_type == Image.MIME[image.format] and name == "IMG_0001" + {"WEBP": ".webp", "JPEG": ".jpg"}[image.format]
    assert len(data) < len(photo) / 10
    size = len(data) + len(PDF)
    assert f"Files to send: {size / 1024:.1f} KB" in outbox.text  # the outbox says what the modem will carry


def test_a_photo_sent_as_it_is_keeps_its_bytes(client, make_user, store):
    make_user("asha")
    photo = phone_photo()
    compose(client("asha"), False, [("IMG_0001.JPG", photo, "image/jpeg")])
    assert queued_files(store) == {"IMG_0001.JPG": ("image/jpeg", photo)}
