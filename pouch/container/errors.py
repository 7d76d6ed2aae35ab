"""Why a pouch could not be read: one class per problem, all under PouchError.

Each message names the problem and where it is (a byte offset in the file, or
a record's position in the stream), so an operator can act on one log line.
"""


class PouchError(Exception):
    """A pouch that cannot be read as it is."""


class BadMagic(PouchError):
    """The file does not start with MPCH: it is not a pouch at all."""


class UnsupportedVersion(PouchError):
    """A pouch written by a newer format version, or with flags this reader lacks."""


class MalformedHeader(PouchError):
    """The header map is damaged or lacks a field."""


class TruncatedPouch(PouchError):
    """The file ends before the end the header declares."""


class PouchTooLarge(PouchError):
    """The pouch expands beyond the caller's cap: a decompression bomb, or a misuse."""


class CorruptPouch(PouchError):
    """The compressed stream is damaged (checksum, zstd error, stray bytes, wrong totals)."""


class MalformedRecord(PouchError):
    """One record cannot be decoded; the others may still be good (errors="skip")."""

    def __init__(self, index, kind, reason):
        super().__init__(f"record {index} ({kind}): {reason}")
        self.index = index
        self.kind = kind
        self.reason = reason


class HistoryMissing(PouchError):
    """The pouch was packed against pieces of earlier pouches this reader does not hold
    (pouch.container.history): not damage, and the writer can pack it again without them."""
