"""pouch.images whatever the bytes: memory stays bounded, transparency stays clear, what would
lose frames is left alone, and a phone's MPO photo is shrunk like a JPEG."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pouch import images
from tests.support.photos import blank_png, phone_photo

ROOT = Path(__file__).resolve().parents[2]
MB = 1024  # /proc counts KB
# The peak resident memory of the process, as Linux counts it for this program alone (ru_maxrss
# would start from the parent's at the fork).
PEAK = """
import re, sys
from pouch import images
def peak():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
data = sys.stdin.buffer.read()
before = peak()
images.shrink(data), images.preview(data)
print(peak() - before)
"""


def memory_taken(data):
    """KB of memory that shrinking and previewing ``data`` took, in a process of its own."""
    if not Path("/proc/self/status").exists():
        pytest.skip("the peak memory of a process is read from Linux's /proc")
    done = subprocess.run([sys.executable, "-c", PEAK], input=data, cwd=ROOT, capture_output=True, check=True)
    return int(done.stdout)


def encoded(image, form, **options):
    out = io.BytesIO()
    image.save(out, form, **options)
    return out.getvalue()


def test_an_image_too_big_to_decode_is_left_as_it_is_and_takes_no_memory():
    huge = blank_png(8000, 8000)  # 64 Mpixels in 230 KB: 256 MB decoded, under Pillow's own bomb limit
    assert images.shrink(huge) is None and images.preview(huge) == b""
    assert memory_taken(huge) < 16 * MB


def test_a_48_megapixel_photo_decodes_at_a_quarter_of_its_pixels():
    photo = phone_photo(size=(8000, 6000))
    assert max(Image.open(io.BytesIO(images.shrink(photo)[0])).size) == 1600
    assert memory_taken(photo) < 128 * MB  # whole, it would be 192 MB before a pixel is resized


def test_a_transparent_image_stays_transparent():
    image = Image.new("RGBA", (3000, 2000), (200, 30, 30, 255))
    image.paste((0, 0, 0, 0), (0, 0, 1500, 2000))  # the left half clear
    shrunk, mime_type = images.shrink(encoded(image, "PNG"))
    small = Image.open(io.BytesIO(shrunk))
    assert mime_type == "image/webp" and small.size == (1600, 1067)
    assert small.convert("RGBA").getpixel((10, 10))[3] == 0 and small.convert("RGBA").getpixel((1590, 10))[3] == 255


def test_an_animation_is_left_whole_and_an_mpo_photo_is_shrunk():
    frames = [Image.new("RGB", (2000, 2000), colour) for colour in ("red", "blue")]
    assert images.shrink(encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])) is None
    photo = Image.open(io.BytesIO(phone_photo()))  # shown portrait
    mpo = encoded(photo, "MPO", save_all=True, append_images=[photo.resize((400, 300))], exif=photo.info["exif"])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert Image.open(io.BytesIO(images.shrink(mpo)[0])).size == (1200, 1600)


def test_a_new_type_gets_its_extension():
    assert images.renamed("IMG_0001.JPG", "image/webp") == "IMG_0001.webp"
    assert images.renamed("scan.jpeg", "image/jpeg") == "scan.jpeg"
    assert images.renamed("photo.png", "image/jpeg") == "photo.jpg"
