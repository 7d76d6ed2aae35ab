"""Photographs as phones send them: Debian's plasma-workspace-wallpapers photos (installed by
scripts/install-system-deps) at a phone camera's size, a JPEG with an EXIF orientation, the
camera's make and model, and where it was taken; and images that are not what they claim."""

import glob
import io
import os
import struct
import zlib

import pytest
from PIL import Image

WALLPAPERS = "/usr/share/wallpapers/*/contents/images/*.jpg"
PHONE_SIZE = (4000, 3000)  # a 12 MP camera, as the sensor stores it (landscape)
ROTATE_90_CW = 6  # EXIF orientation: shown turned a quarter clockwise, so 4000x3000 shows portrait
GPS_IFD, MAKE, MODEL = 0x8825, 0x010F, 0x0110


def wallpaper_photos():
    """The distinct wallpaper photographs (JPEG) on this machine, by real path."""
    return sorted({os.path.realpath(path) for path in glob.glob(WALLPAPERS)})


def a_wallpaper():
    """The first wallpaper photograph; the test skips when the package is absent."""
    photos = wallpaper_photos()
    if not photos:
        pytest.skip(f"no photographs at {WALLPAPERS}: apt-get install plasma-workspace-wallpapers")
    return photos[0]


def phone_photo(source=None, size=PHONE_SIZE, orientation=ROTATE_90_CW, quality=92):
    """JPEG bytes of ``source`` (a wallpaper by default) at ``size`` as a phone writes it."""
    image = Image.open(source or a_wallpaper()).convert("RGB").resize(size, Image.LANCZOS)
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "Tecno", "Camon 20"
    exif[0x0112] = orientation
    exif[GPS_IFD] = {1: "S", 2: (4.0, 19.0, 30.0), 3: "E", 4: (15.0, 18.0, 40.0)}  # Kinshasa
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width, height, idat):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_claiming(width, height):
    """A PNG of a few bytes whose header claims ``width`` x ``height`` pixels: a decompression bomb."""
    return _png(width, height, zlib.compress(b"\x00" * 4))


def blank_png(width, height):
    """A real, whole black PNG of ``width`` x ``height`` RGB pixels, a few KB for millions of
    pixels (written row by row: making it takes no memory)."""
    packer, row = zlib.compressobj(9), b"\x00" * (1 + 3 * width)
    return _png(width, height, b"".join(packer.compress(row) for _ in range(height)) + packer.flush())
