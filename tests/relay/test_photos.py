"""Photos fit for phones: an inbound photo comes down to the box shrunk, its original kept on
the relay; an image that is not what it claims comes down as it came."""

import hashlib
import io
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from PIL import Image

from pouch.records import BlobRecord, MessageRecord
from relay import payload
from relay.inbound import preparation
from relay.schema import inbound
from tests.relay.conftest import email_bytes
from tests.support import inbound_parse
from tests.support.photos import blank_png, phone_photo, png_claiming

TO = "marie@goma.relay.test"


def sha(data):
    return hashlib.sha256(data).digest()


async def received(relay, tmp_path, raw):
    """The message record and the blobs the box downloads for ``raw``, posted to the webhook."""
    box = await relay.register("goma")
    response = await relay.webhook(inbound_parse.raw_fields(raw, [TO]))
    assert response.code == 200, response.body
    assert preparation.prepare_some(relay.engine) == 1  # as the relay's background does
    _, records = await box.receive(tmp_path)
    [message] = [r for r in records if isinstance(r, MessageRecord)]
    return message, {r.sha256: r.data for r in records if isinstance(r, BlobRecord)}


def prepared(relay):
    """(record, blobs) of the one inbound message, as the relay keeps it."""
    with relay.engine.connect() as db:
        return payload.unpack(db.execute(sa.select(inbound.c.prepared)).scalar_one())


def shown(data):
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.gen_test(timeout=60)
async def test_a_phone_photo_comes_down_at_phone_size_and_its_original_stays_on_the_relay(relay, tmp_path):
    photo = phone_photo()  # 4000x3000 as stored, shown portrait (EXIF orientation 6), GPS and camera in EXIF
    small = phone_photo(size=(800, 600))
    raw = email_bytes(TO, subject="Photos", attachments=[("IMG_0001.JPG", "image/jpeg", photo),
                                                         ("small.jpg", "image/jpeg", small)])
    message, blobs = await received(relay, tmp_path, raw)

    shrunk, kept = message.attachments
    image = shown(blobs[shrunk.sha256])
    assert image.size == (1200, 1600)  # the long side at 1600 px, and still portrait
    assert not image.getexif() and "exif" not in image.info  # no camera, no place
    assert shrunk.type == Image.MIME[image.format] and shrunk.type in ("image/webp", "image/jpeg")
    assert shrunk.name == "IMG_0001" + {"image/webp": ".webp", "image/jpeg": ".jpg"}[shrunk.type]
    assert shrunk.size == len(blobs[shrunk.sha256]) < len(photo) / 10
    assert (shrunk.original_size, shrunk.original_sha256) == (len(photo), sha(photo))
    assert sha(photo) not in blobs  # the original does not cross the modem unasked

    assert (kept.name, kept.size, kept.sha256, kept.original_sha256) == ("small.jpg", len(small), sha(small), b"")
    assert blobs[kept.sha256] == small  # a photo that fits comes as it is

    _, on_relay = prepared(relay)
    assert on_relay[shrunk.original_sha256] == photo  # a box can ask for it until retention clears it


@pytest.mark.gen_test(timeout=60)
async def test_broken_images_and_bombs_come_through_untouched_beside_a_good_photo(relay, tmp_path):
    photo = phone_photo()
    hostile = [("bomb.png", "image/png", png_claiming(50_000, 50_000)),  # 2.5 Gpixels claimed in 69 bytes
               ("huge.png", "image/png", blank_png(7000, 7000)),  # 49 Mpixels that do decode, in 140 KB
               ("cut.jpg", "image/jpeg", photo[:150_000]),  # a 4000x3000 photo cut short on the way
               ("fake.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 not a JPEG at all" * 100)]
    raw = email_bytes(TO, subject="Mixed", attachments=[*hostile, ("IMG_0002.jpg", "image/jpeg", photo)])
    message, blobs = await received(relay, tmp_path, raw)

    *untouched, good = message.attachments
    for attachment, (name, mime_type, data) in zip(untouched, hostile):
        assert (attachment.name, attachment.type, attachment.size) == (name, mime_type, len(data))
        assert blobs[attachment.sha256] == data and not attachment.original_sha256
    assert good.original_sha256 == sha(photo) and max(shown(blobs[good.sha256]).size) == 1600


@pytest.mark.gen_test(timeout=60)
async def test_an_inline_photo_keeps_its_place_in_the_html(relay, tmp_path):
    photo = phone_photo(orientation=1)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "ami@example.org", TO, "Inline"
    mail.set_content("See the photo.")
    mail.add_alternative('<p>See <img src="cid:photo1@example.org"></p>', subtype="html")
    mail.get_payload()[1].add_related(photo, "image", "jpeg", cid="<photo1@example.org>",
                                     disposition="inline", filename="IMG.jpg")
    message, blobs = await received(relay, tmp_path, mail.as_bytes())

    [attachment] = message.attachments
    assert attachment.cid == "photo1@example.org" and attachment.inline
    assert "cid:photo1@example.org" in message.body
    assert shown(blobs[attachment.sha256]).size == (1600, 1200)  # landscape as it was
    assert attachment.original_sha256 == sha(photo)
    assert attachment.name == "IMG." + {"image/webp": "webp", "image/jpeg": "jpg"}[attachment.type]
