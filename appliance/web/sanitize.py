"""Incoming HTML made safe to show inside the mail client's own page.

bleach keeps a short list of formatting tags and attributes; everything that can run
code, submit data, load a remote resource or restyle the page goes.  The page's
Content-Security-Policy is the second wall: even markup that slipped through could
neither run script nor load from outside the box.
"""

import re

import bleach
from bleach.html5lib_shim import Filter

# The allowlist is shared with pouch.html, which drops before the modem what is not shown here.
from pouch.html import ATTRIBUTES, INVISIBLE_TAGS, PROTOCOLS, TAGS, shows_image, without_attribute_floods

# Content of these elements is never text worth showing; bleach would keep it as text.
INVISIBLE_START = re.compile(r"<(%s)\b" % "|".join(sorted(INVISIBLE_TAGS)), re.IGNORECASE)


def _link_filter(cid_url):
    """An html5lib filter: inline images only from the box, links open apart and tell nothing."""

    class LinkFilter(Filter):
        def __iter__(self):
            for token in super().__iter__():
                if token["type"] in ("StartTag", "EmptyTag"):
                    attrs = token["data"]
                    if token["name"] == "img":
                        _box_image(attrs, cid_url)
                    elif token["name"] == "a" and (None, "href") in attrs:
                        attrs[(None, "rel")] = "noopener noreferrer nofollow"
                        attrs[(None, "target")] = "_blank"
                yield token

    return LinkFilter


def _box_image(attrs, cid_url):
    source = attrs.get((None, "src"), "")
    if shows_image(source) and cid_url is not None:
        attrs[(None, "src")] = cid_url(source[4:].strip("<>"))
    else:
        attrs.pop((None, "src"), None)  # remote images are never fetched by the page


def without_invisible(markup):
    """``markup`` less each invisible element with its content, up to its first end tag; one left
    open stays for bleach.  One pass: a search for the end of every start tag to the end of the
    text (``<(script)\\b.*?</\\1>``) took 15 s for 160 KB of unclosed "<script>"."""
    kept, position, unclosed = [], 0, set()
    while start := INVISIBLE_START.search(markup, position):
        name = start[1].lower()
        end = None if name in unclosed else re.compile(rf"</{name}\s*>", re.IGNORECASE).search(markup, start.end())
        if end is None:  # none further on either, for any later start tag of this name
            unclosed.add(name)
            kept.append(markup[position:start.end()])
            position = start.end()
        else:
            kept.append(markup[position:start.start()])
            position = end.end()
    kept.append(markup[position:])
    return "".join(kept)


def clean_html(markup, cid_url=None):
    """Safe HTML for ``markup``; ``cid_url(cid)`` gives the box URL of an inline image."""
    cleaner = bleach.Cleaner(tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, strip=True,
                             strip_comments=True, filters=[_link_filter(cid_url)])
    return cleaner.clean(without_invisible(without_attribute_floods(markup)))
