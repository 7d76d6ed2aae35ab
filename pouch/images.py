"""Images fit for phones, with Pillow (Debian's python3-pil on the box): a photo shrunk to what a
phone screen shows, and a preview of a few KB for an image that waits on the relay.

Both sides use these: the relay shrinks inbound photos and makes previews of held images; the
box shrinks a photo a user attaches ("send smaller").  Whatever the bytes are, these functions
never raise for them: an image Pillow cannot read (or one too big to open safely) gives None,
and the attachment travels as it is.
"""

import io
import warnings

from PIL import Image, ImageOps

PHONE_SIDE = 1600  # px, the long side of a shrunk photo: sharp on any phone, readable for documents
QUALITY = 80  # WebP and JPEG quality of a shrunk photo
PREVIEW_SIDE = 160  # px
PREVIEW_BYTES = 4096  # a preview is at most this big
MAX_PIXELS = 64_000_000  # an image claiming more is not opened (a decompression bomb)

TYPES = {"WEBP": "image/webp", "JPEG": "image/jpeg"}


def _opened(data):
    """The image in ``data`` with its EXIF orientation applied, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS or getattr(image, "n_frames", 1) > 1:
                return None  # too big to decode safely, or animated (shrinking would drop frames)
            image.load()
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - any bytes at all may come: unreadable means "leave it as it is"
        return None


def _encoded(image, form, quality):
    if form == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")  # JPEG has no alpha
    elif form == "WEBP" and image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    out = io.BytesIO()
    image.save(out, form, quality=quality, **({"method": 4} if form == "WEBP" else {"optimize": True}))
    return out.getvalue()  # no exif= or icc_profile= given: the metadata stays behind


def _smallest(image, quality):
    """(bytes, MIME type) of ``image`` as WebP or JPEG, whichever is smaller at ``quality``."""
    return min(((_encoded(image, form, quality), TYPES[form]) for form in TYPES), key=lambda e: len(e[0]))


def long_side(data):
    """The long side in pixels of the image in ``data`` (as shown, orientation applied), or None."""
    image = _opened(data)
    return None if image is None else max(image.size)


def shrink(data, max_side=PHONE_SIDE, quality=QUALITY):
    """(bytes, MIME type) of the image with its long side at most ``max_side``, orientation
    applied and metadata dropped; None when it is not an image, already fits, or would not
    get smaller."""
    image = _opened(data)
    if image is None or max(image.size) <= max_side:
        return None
    image.thumbnail((max_side, max_side), Image.LANCZOS)
    shrunk, mime_type = _smallest(image, quality)
    return (shrunk, mime_type) if len(shrunk) < len(data) else None


def preview(data, max_side=PREVIEW_SIDE, max_bytes=PREVIEW_BYTES):
    """A preview of the image (WebP or JPEG) of at most ``max_bytes``, or b"" when there is none."""
    image = _opened(data)
    if image is None:
        return b""
    image.thumbnail((max_side, max_side), Image.LANCZOS)
    for quality in (60, 45, 30, 20):
        small, _ = _smallest(image, quality)
        if len(small) <= max_bytes:
            return small
    return b""
