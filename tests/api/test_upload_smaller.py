"""The API's upload takes ``smaller=true`` as the compose page's "Send pictures smaller"; without
it a file keeps its bytes (an API client asked for exactly what it sent)."""

import io

from PIL import Image

from tests.support.photos import phone_photo


def test_an_upload_with_smaller_is_a_phone_sized_photo_and_without_it_the_original(api):
    asha = api("asha")
    photo = phone_photo()
    [small] = asha.ok("POST", "/files", params={"smaller": "true"}, files={"file": ("IMG_7.jpg", photo, "image/jpeg")})
    data = asha.get(f"/files/{small['id']}/download").content
    image = Image.open(io.BytesIO(data))
    assert image.size == (1200, 1600) and not image.getexif()
    assert (small["size"], small["content_type"]) == (len(data), Image.MIME[image.format]) and len(data) < len(photo) / 10

    [same] = asha.ok("POST", "/files", files={"file": ("IMG_7.jpg", photo, "image/jpeg")})
    assert (same["filename"], same["size"]) == ("IMG_7.jpg", len(photo))
    assert asha.get(f"/files/{same['id']}/download").content == photo
    assert asha.post("/files", params={"smaller": "maybe"}, files={"file": ("a.jpg", photo)}).status_code == 400
