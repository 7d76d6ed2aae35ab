"""Conversions between the text forms of a body: flowed text, plain text, HTML.
The one HTML<->text converter of both sides: the relay's text/plain alternative,
the box's search index, snippets and quoted replies."""

import html
import re
from html.parser import HTMLParser

from pouch.records import BODY_HTML

_SIGNATURE_SEPARATOR = "-- "


def unflow(text: str, delsp: bool = False) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676)."""
    lines = []  # [quote depth, text, ends with a soft break]
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        content = content[1:] if content.startswith(" ") else content  # space-stuffing
        soft = content.endswith(" ") and content != _SIGNATURE_SEPARATOR
        if soft and delsp:
            content = content[:-1]
        if lines and lines[-1][2] and lines[-1][0] == depth:
            lines[-1][1] += content
            lines[-1][2] = soft
        else:
            lines.append([depth, content, soft])
    return "\n".join(">" * depth + (" " if depth else "") + content for depth, content, _ in lines)


def text_to_html(text: str) -> str:
    """Plain text shown as it is inside an HTML body."""
    return f"<pre>{html.escape(text)}</pre>"


def lines_to_html(text: str) -> str:
    """Plain text as HTML that keeps its lines but not its spacing, for quoting it in a rich reply."""
    return html.escape(text).replace("\n", "<br>\n")


def body_text(body: str, body_type: str) -> str:
    """A body as plain text, whichever its type."""
    return html_to_text(body) if body_type == BODY_HTML else body


def snippet(text: str, length: int = 160) -> str:
    """The start of a text on one line, for a message list."""
    return " ".join(text.split())[:length]


def html_to_text(markup: str) -> str:
    """A readable plain-text rendering of HTML, for the text/plain alternative."""
    converter = _TextConverter()
    converter.feed(markup)
    converter.close()
    return converter.result()


_BLOCKS = {
    "p", "div", "br", "tr", "table", "ul", "ol", "li", "blockquote", "pre", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "dl", "dt", "dd",
}
_PARAGRAPHS = {"p", "table", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_HIDDEN = {"script", "style", "head", "title", "template"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextConverter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self._out = []
        self._hidden = 0
        self._pre = 0
        self._links = []  # hrefs of the open <a> elements

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "pre":
            self._pre += 1
        if tag in _BLOCKS:
            self._out.append("\n\n" if tag in _PARAGRAPHS else "\n")
        if tag == "li":
            self._out.append("- ")
        elif tag == "hr":
            self._out.append("----\n")
        elif tag == "a":
            self._links.append(attrs.get("href") or "")
        elif tag == "img" and attrs.get("alt"):
            self._out.append(f"[{attrs['alt']}]")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._links:
            self._close_link(self._links.pop())
        if tag in _PARAGRAPHS:
            self._out.append("\n\n")

    def _close_link(self, href):
        # Show where a link goes unless its text already says it.
        if href.startswith(("http:", "https:")) and href not in (self._out[-1] if self._out else ""):
            self._out.append(f" <{href}>")

    def handle_data(self, data):
        if self._hidden:
            return
        self._out.append(data if self._pre else _SPACES.sub(" ", data))

    def result(self):
        lines = (line.strip() for line in "".join(self._out).split("\n"))
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
