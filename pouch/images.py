"""Images fit for phones, with Pillow (Debian's python3-pil on the box): a photo shrunk to what a
phone screen shows, and a preview of a few KB for an image that waits on the relay.

Both sides use these: the relay shrinks inbound photos and makes previews of held images; the
box shrinks a photo a user attaches ("send smaller").  Whatever the bytes are, these functions
never raise for them: an image Pillow cannot read (or one too big to open safely) gives None,
and the attachment travels as it is.

Memory stays bounded whatever the bytes claim: only the formats below are opened (never one
that runs a helper program, as EPS would), a JPEG is decoded at the smallest of its 1/2, 1/4
and 1/8 scales that still holds twice the side asked for (a 48 MP photo decodes as 12 MP), and
an image that would still decode to more than MAX_PIXELS is not decoded at all.
"""

import io
import os
import warnings

from PIL import Image

PHONE_SIDE = 1600  # px, the long side of a shrunk photo: sharp on any phone, readable for documents
# WebP and JPEG quality of a shrunk photo: libwebp's and Pillow's own default.  On the wallpaper
# photos at 12 MP, shrunk to 1600 px: 75 makes 20% fewer bytes than 80 (80 KB against 100 KB on
# average) for 0.8 dB of PSNR (39.4 against 40.2); WebP's method 6 would save 6% more for 60% more
# time, which a Pi composing a message feels.
QUALITY = 75
PREVIEW_SIDE = 160  # px
PREVIEW_BYTES = 4096  # a preview is at most this big
MAX_PIXELS = 40_000_000  # an image decoding to more is not decoded (Pillow holds 4 bytes a pixel: 160 MB)
REDUCING_GAP = 2  # a JPEG is decoded at a scale that keeps at least twice the side asked for

# What is opened: photos and screenshots.  Many phone photos open as MPO, a JPEG whose first frame
# is the photo (then a depth map or a preview).
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
TYPES = {"WEBP": "image/webp", "JPEG": "image/jpeg"}
EXTENSIONS = {"image/webp": (".webp",), "image/jpeg": (".jpg", ".jpeg")}
ORIENTATION = 0x0112  # the EXIF tag
TURNS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
         8: Image.Transpose.ROTATE_90}


def _header(data):
    """The image in ``data``, opened but not decoded; None if it is none we open."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # a bomb raises
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    if image.format != "MPO" and getattr(image, "is_animated", False):
        return None  # animated, or pages: shrinking would drop frames
    return image


def _fitted(image, side):
    """The opened ``image`` decoded with its long side at most ``side``, orientation applied;
    None when it would decode too big."""
    if image.format in ("JPEG", "MPO"):
        scale = REDUCING_GAP * side / max(image.size)
        image.draft(None, (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    if image.width * image.height > MAX_PIXELS:
        return None  # a decompression bomb, or just too big to decode here
    turn = TURNS.get(image.getexif().get(ORIENTATION))  # after the check: a PNG decodes to find its EXIF
    image.load()
    if image.mode == "1":  # a scan: resized poorly as it is, and grey needs no more bytes than it
        image = image.convert("L")
    elif image.mode not in ("RGB", "RGBA", "L", "CMYK"):  # resized poorly (palette) or not at all
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    image.thumbnail((side, side), Image.LANCZOS)
    return image.transpose(turn) if turn is not None else image  # turned once small: cheaper


def _has_alpha(image):
    return "A" in image.getbands() or "transparency" in image.info


def _encoded(image, form, quality):
    if form == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif form == "WEBP" and image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    out = io.BytesIO()
    image.save(out, form, quality=quality, **({"method": 4} if form == "WEBP" else {"optimize": True}))
    return out.getvalue()  # no exif= or icc_profile= given: the metadata stays behind


def _smallest(image, quality):
    """(bytes, MIME type) of ``image`` as WebP or JPEG, whichever is smaller at ``quality``;
    WebP alone when it has transparency (JPEG has none: the clear parts would turn black)."""
    forms = ["WEBP"] if _has_alpha(image) else list(TYPES)
    return min(((_encoded(image, form, quality), TYPES[form]) for form in forms), key=lambda e: len(e[0]))


def long_side(data):
    """The long side in pixels of the image in ``data``, or None (its header is read, no more)."""
    try:
        image = _header(data)
        return None if image is None else max(image.size)
    except Exception:  # noqa: BLE001 - any bytes at all may come: not an image we read
        return None


def shrink(data, max_side=PHONE_SIDE, quality=QUALITY):
    """(bytes, MIME type) of the image with its long side at most ``max_side``, orientation
    applied and metadata dropped; None when it is not an image, already fits, or would not
    get smaller."""
    try:
        image = _header(data)
        if image is None or max(image.size) <= max_side:
            return None
        image = _fitted(image, max_side)
        if image is None:
            return None
        shrunk, mime_type = _smallest(image, quality)
    except Exception:  # noqa: BLE001 - any bytes at all may come: unreadable means "leave it as it is"
        return None
    return (shrunk, mime_type) if len(shrunk) < len(data) else None


def preview(data, max_side=PREVIEW_SIDE, max_bytes=PREVIEW_BYTES):
    """A preview of the image (WebP or JPEG) of at most ``max_bytes``, or b"" when there is none."""
    try:
        image = _header(data)
        image = image and _fitted(image, max_side)
        if image is None:
            return b""
        for quality in (60, 45, 30, 20):
            small, _ = _smallest(image, quality)
            if len(small) <= max_bytes:
                return small
    except Exception:  # noqa: BLE001 - any bytes at all may come: no preview then
        pass
    return b""


def renamed(name, mime_type):
    """``name`` with an extension of ``mime_type`` (the type a photo was shrunk to)."""
    stem, extension = os.path.splitext(name)
    wanted = EXTENSIONS.get(mime_type, (extension,))
    return name if extension.lower() in wanted else (stem or "photo") + wanted[0]
