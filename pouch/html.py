"""What of an HTML body a box shows, and HTML reduced to just that for the wire.

The allowlist here is the one the box's display sanitiser uses
(``appliance/web/sanitize.py``): a short list of formatting tags and
attributes, links by a few protocols.  ``reduce_html`` keeps what that
sanitiser keeps and drops, before the modem, what it would throw away on
display anyway: comments, invisible elements with their content, other tags
(their text stays), other attributes (style, class...), remote image sources
(the page never fetches them) and whitespace the browser collapses.  The box
still sanitises what it shows; this is a saving, not a wall.
"""

import re

import bleach
from bleach.html5lib_shim import Filter

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "cite", "code", "dd", "del", "div",
    "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
    "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
CELL = ["colspan", "rowspan", "align", "valign"]
ATTRIBUTES = {
    "*": ["title", "dir", "lang"],
    "a": ["href", "title"],
    "img": ["src", "alt", "width", "height"],
    "font": ["color"],
    "td": CELL, "th": CELL, "p": ["align"], "div": ["align"],
}
PROTOCOLS = frozenset({"http", "https", "mailto", "cid"})
# Real mail nests at most 64 elements deep (the corpus); html5lib's time grows with the
# square of the depth (50,000 nested <div>, 350 KB, take minutes), so deeper is refused.
MAX_DEPTH = 512
# A tag with more attributes is no markup a mail program wrote: html5lib checks each new attribute
# against all before it (1 MB of "<script x" is one tag of 110,000 attributes, 22 s), so it goes.
MAX_ATTRIBUTES = 256
# Elements whose content is never text worth showing.
INVISIBLE_TAGS = frozenset({"script", "style", "title", "head", "template", "noscript", "xml"})


class MarkupTooDeep(ValueError):
    """HTML nested deeper than MAX_DEPTH: hostile, or broken beyond reading as HTML."""


def shows_image(source):
    """Whether the box shows an image from ``source``: only its own inline (cid:) images."""
    return source.lower().startswith("cid:")


# Whitespace next to these tags starts or ends a line, where a browser drops it.
_BLOCK_TAGS = frozenset({
    "blockquote", "br", "caption", "center", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "li", "ol", "p", "pre", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# Without attributes these change nothing on the page.
_NO_OP_WHEN_BARE = frozenset({"span", "font"})
_TAG_TOKENS = frozenset({"StartTag", "EndTag", "EmptyTag"})
_TEXT_TOKENS = frozenset({"Characters", "SpaceCharacters"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # not \s: a no-break space is text
# [^<>]: a tag's end is looked for up to the next "<" only, so that text of "<x" never closed
# costs one look at each character, not one look to the end of the text for each "<".
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*?(/?)>")
_TAG_HEAD = re.compile(r"<[a-zA-Z][^>]*>?")  # a start tag with its ">" (or up to the text's end)
_QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
_RAW_TEXT = frozenset({"script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes"})
# Elements that never hold others, or that the next of their kind closes.
_NEVER_NEST = frozenset({
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "keygen",
    "link", "meta", "param", "source", "track", "wbr",
    "colgroup", "dd", "dt", "li", "optgroup", "option", "p", "rp", "rt", "tbody", "td", "tfoot", "th", "thead", "tr",
})


class _Reducer(Filter):
    """Runs after bleach's sanitiser: drops what the page would not show."""

    def __iter__(self):
        self._hidden = 0  # depth inside invisible elements
        self._pre = 0  # depth inside <pre>: whitespace there is content
        self._bare = []  # per open span/font: True when its tags are dropped
        self._text = []  # text tokens not yet written
        self._after_block = True  # the text to come starts a line
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if kind in _TAG_TOKENS and name in INVISIBLE_TAGS:
                self._hidden += 1 if kind == "StartTag" else -1 if kind == "EndTag" else 0
                self._hidden = max(self._hidden, 0)
            elif self._hidden:
                continue
            elif kind in _TEXT_TOKENS or kind == "Entity":
                self._text.append(token)
            elif kind in _TAG_TOKENS and not self._dropped(kind, name, token):
                yield from self._flush(before_block=name in _BLOCK_TAGS)
                self._after_block = name in _BLOCK_TAGS
                self._pre += (kind == "StartTag") - (kind == "EndTag") if name == "pre" else 0
                if name == "img":
                    _without_remote_source(token["data"])
                yield token
        yield from self._flush(before_block=True)

    def _dropped(self, kind, name, token):
        if name not in _NO_OP_WHEN_BARE:
            return False
        if kind == "StartTag":
            self._bare.append(not token["data"])
            return self._bare[-1]
        if kind == "EndTag" and self._bare:
            return self._bare.pop()
        return kind == "EmptyTag" and not token["data"]

    def _flush(self, before_block):
        text, self._text = self._text, []
        if self._pre:
            yield from text
            return
        runs = _collapsed(text)
        if runs and self._after_block and runs[0]["type"] != "Entity":
            runs[0]["data"] = runs[0]["data"].lstrip(" ")
        if runs and before_block and runs[-1]["type"] != "Entity":
            runs[-1]["data"] = runs[-1]["data"].rstrip(" ")
        yield from (run for run in runs if run["type"] == "Entity" or run["data"])


def _collapsed(tokens):
    """Adjacent text merged, each whitespace run one space; entities stay apart."""
    runs, pieces = [], []
    for token in tokens:
        if token["type"] != "Entity":
            pieces.append(token["data"])
            continue
        if pieces:
            runs.append(_text_run(pieces))
            pieces = []
        runs.append(token)
    if pieces:
        runs.append(_text_run(pieces))
    return runs


def _text_run(pieces):
    # Joined once: thousands of dropped <span>s must not make merging quadratic.
    return {"type": "Characters", "data": _HTML_SPACE.sub(" ", "".join(pieces))}


def _without_remote_source(attrs):
    source = attrs.get((None, "src"))
    if source is not None and not shows_image(source):
        del attrs[(None, "src")]


def without_attribute_floods(markup):
    """``markup`` less each start tag of over MAX_ATTRIBUTES attributes, in one linear scan:
    html5lib would take quadratic time over it."""
    return _TAG_HEAD.sub(lambda tag: "" if _attributes_over_max(tag[0]) else tag[0], markup)


def _attributes_over_max(tag):
    """Whether ``tag`` has more attributes than MAX_ATTRIBUTES: the spaces between them, not
    those inside quoted values (a long inline style)."""
    return (len(_HTML_SPACE.findall(tag)) > MAX_ATTRIBUTES
            and len(_HTML_SPACE.findall(_QUOTED.sub("", tag))) > MAX_ATTRIBUTES)


def nesting_depth(markup):
    """How deep the elements of ``markup`` nest, estimated in one linear scan of its tags."""
    depth = deepest = position = 0
    while tag := _TAG.search(markup, position):
        position = tag.end()
        closing, name, self_closing = tag[1], tag[2].lower(), tag[3]
        if name in _RAW_TEXT and not closing:  # up to its end tag all is text, "<" or not
            end = re.compile(rf"</{name}", re.IGNORECASE).search(markup, position)
            position = end.end() if end else len(markup)
        elif not (self_closing or name in _NEVER_NEST):
            depth = max(depth - 1, 0) if closing else depth + 1
            deepest = max(deepest, depth)
    return deepest


def reduce_html(markup: str) -> str:
    """``markup`` less everything the box's display sanitiser would drop or ignore.

    Raises MarkupTooDeep for markup nested deeper than MAX_DEPTH."""
    depth = nesting_depth(markup)
    if depth > MAX_DEPTH:
        raise MarkupTooDeep(f"HTML nested {depth} elements deep; at most {MAX_DEPTH} are read as HTML")
    # Invisible elements pass bleach's sanitiser only so that _Reducer drops
    # their content with them (bleach would keep it as text).
    cleaner = bleach.Cleaner(tags=TAGS | INVISIBLE_TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS,
                             strip=True, strip_comments=True, filters=[_Reducer])
    return cleaner.clean(without_attribute_floods(markup))
