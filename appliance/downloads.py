"""A stored file sent to its owner, the same from a page's link and the API's download.

Whatever type the sender claimed, a file leaves the box as application/octet-stream to
download, so no attachment can pass for the box's own script or page (a ``.js`` attachment
under ``script-src 'self'``); only a few image types show as themselves, never SVG."""

import tornado.escape
import tornado.web

from appliance.store.safe_text import safe_name

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOWNLOAD_TYPE = "application/octet-stream"


def send_file(handler, found, download):
    """Images of INLINE_TYPES keep their type (inline unless ``download``); all else downloads."""
    if found is None or not handler.store.attachment_files.has(found["sha256"]):
        raise tornado.web.HTTPError(404)
    content_type = found["type"].lower()
    image = content_type in INLINE_TYPES
    handler.set_header("Content-Type", content_type if image else DOWNLOAD_TYPE)
    quoted = tornado.escape.url_escape(safe_name(found["name"]), plus=False)
    how = "inline" if image and not download else "attachment"
    handler.set_header("Content-Disposition", f"{how}; filename*=UTF-8''{quoted}")
    handler.set_header("Cache-Control", "private, max-age=86400")
    handler.write(handler.store.attachment_files.read(found["sha256"]))
