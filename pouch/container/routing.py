"""Handing each record a reader yields to what one side does with its kind.

Each side (the box's import, the relay's takeover, ``mailpouch-pouch inspect``)
keeps a table ``{kind name: handler}``; its tests hold the table to the kinds
the other side sends (``wire.sent_by``).  A kind the side has no handler for is
skipped and said in the log, never a crash: a newer peer may send more than this
side takes.
"""

import collections
import logging

from . import wire

log = logging.getLogger(__name__)


def route(reader, handlers, side):
    """Call ``handlers[kind name](record)`` for each record of ``reader``; returns
    {kind name: how many} of the records ``side`` (e.g. "the box") does not take."""
    not_taken = collections.Counter()
    for record in reader:
        kind = wire.kind_of(record).name
        if kind in handlers:
            handlers[kind](record)
        else:
            not_taken[kind] += 1
    for kind, count in not_taken.items():
        log.warning("pouch %s: %d %s record(s) skipped: %s does not take that kind",
                    reader.header.pouch_id, count, kind, side)
    return dict(not_taken)
