"""The email package policies pouch.mime parses and writes with.

Parsing: compat32, which never raises on broken headers, with header values
handed over raw (8-bit bytes surrogate-escaped, RFC 2047 words encoded) so
that ``headers`` makes every decoding choice. Writing: the modern policy with
CRLF line ends, except that values given as ``Verbatim`` (already encoded and
folded by ``build``) and raw values of parsed messages are written as they
are: the email package's own folding drops the space between encoded words
and breaks on some Message-IDs.
"""

import re
from email.headerregistry import HeaderRegistry
from email.policy import Compat32, EmailPolicy


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_OUTSIDE_FOLDING = re.compile(r"\r\n(?![ \t])|\r(?!\n)|(?<!\r)\n")


class RawHeaderPolicy(Compat32):
    def header_fetch_parse(self, name, value):
        return value


class Verbatim(str):
    """A header value that is already RFC 5322 conformant: encoded and folded."""


class CachingHeaderRegistry(HeaderRegistry):
    """The stdlib registry builds a new class on every header access, which
    costs more than the rest of writing a message; build each class once."""

    def __init__(self):
        super().__init__()
        self._classes = {}

    def __getitem__(self, name):
        name = name.lower()
        if name not in self._classes:
            self._classes[name] = super().__getitem__(name)
        return self._classes[name]


class WritingPolicy(EmailPolicy):
    def header_store_parse(self, name, value):
        if isinstance(value, Verbatim):
            if _LINE_BREAK_OUTSIDE_FOLDING.search(value):
                raise ValueError(f"{name} would break out of its header: {value!r}")
            return (name, str(value))
        return super().header_store_parse(name, value)

    def fold_binary(self, name, value):
        if hasattr(value, "name"):  # a header object of the registry
            return super().fold_binary(name, value)
        # A raw or Verbatim value keeps its folding; a line that does not
        # start with whitespace (a broken original) is made a continuation.
        lines = [line for line in _LINE_BREAK.split(value) if line.strip()] or [""]
        folded = self.linesep.join(lines[:1] + [line if line[0] in " \t" else " " + line for line in lines[1:]])
        return f"{name}: {folded.lstrip()}{self.linesep}".encode("utf-8" if self.utf8 else "ascii", "surrogateescape")


PARSING = RawHeaderPolicy()
# Parts are created 7-bit clean; writing passes 8-bit bytes of embedded
# messages through unchanged instead of re-encoding their parts.
CREATING = WritingPolicy(linesep="\r\n", cte_type="7bit", header_factory=CachingHeaderRegistry())
WRITING = CREATING.clone(cte_type="8bit")
