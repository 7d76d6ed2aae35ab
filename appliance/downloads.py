"""A stored file sent to its owner, the same from a page's link and the API's download.

Whatever type the sender claimed, a file leaves the box as application/octet-stream to
download, so no attachment can pass for the box's own script or page (a ``.js`` attachment
under ``script-src 'self'``); only a few image types show as themselves, never SVG."""

import os

import tornado.escape
import tornado.iostream
import tornado.web

from appliance.store.safe_text import safe_name

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOWNLOAD_TYPE = "application/octet-stream"
# A file goes out a piece at a time, each written once the phone took the last: a 25 MB
# attachment never sits whole in the box's memory, however many users fetch one at once.
CHUNK_BYTES = 64 * 1024


async def send_file(handler, found, download):
    """Images of INLINE_TYPES keep their type (inline unless ``download``); all else downloads."""
    if found is None:
        raise tornado.web.HTTPError(404)
    try:
        opened = handler.store.attachment_files.path(found["sha256"]).open("rb")
    except OSError:
        raise tornado.web.HTTPError(404) from None
    with opened:
        _set_headers(handler, found, download, os.fstat(opened.fileno()).st_size)
        if handler.check_etag_header():
            handler.clear_header("Content-Length")
            handler.set_status(304)
            return
        while handler.request.method != "HEAD" and (chunk := opened.read(CHUNK_BYTES)):
            handler.write(chunk)
            try:
                await handler.flush()
            except tornado.iostream.StreamClosedError:
                return  # the phone went away


def _set_headers(handler, found, download, size):
    content_type = found["type"].lower()
    image = content_type in INLINE_TYPES
    handler.set_header("Content-Type", content_type if image else DOWNLOAD_TYPE)
    quoted = tornado.escape.url_escape(safe_name(found["name"]), plus=False)
    how = "inline" if image and not download else "attachment"
    handler.set_header("Content-Disposition", f"{how}; filename*=UTF-8''{quoted}")
    handler.set_header("Cache-Control", "private, max-age=86400")
    handler.set_header("Content-Length", size)  # flushed in pieces, yet not chunked: a phone shows progress
    handler.set_header("Etag", f'"{found["sha256"]}"')  # its digest: a phone that has it gets a 304
