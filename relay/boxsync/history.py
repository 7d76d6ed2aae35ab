"""Pouches packed against the text of the pouches a box took (pouch.container.history),
on the relay's side.

A box that keeps pieces says so in each sync request, naming the newest it holds
(``"history": hex``, "" for none: appliance.store.history).  For such a box the
relay keeps each pouch's piece, compressed, with the pouch it came from; once
the box names it, the relay packs the next pouches against it and the pieces
before it: of pouches the box acked at most ``DAYS`` before, the newest that
fit pouch.container.history's budget.  The box keeps its pieces longer (30 days,
12 MiB), so a pouch offered now still reads when the box fetches it later.

A box that no longer holds what an offered pouch was packed against (it names an
older piece, or none: it forgot them, or was put back from a backup) has that
pouch packed again, without them, in the same sync: the pouch is marked
replaced and its mail, records owed and requests go back to pending.  Nothing is
set aside: the mail was never the problem.

Pieces are mail text: they are deleted with the pouch's mail, ``keep_days``
after the box's ack (relay.retention).
"""

import re
import time

import sqlalchemy as sa
import zstandard

from pouch.container import history as pouch_history
from relay import owed
from relay.boxsync import requests
from relay.schema import boxes, deliveries, pouch_history as pieces_table, pouches

DAYS = 14  # acked at most this long ago: the box keeps its pieces 30 days
DAY_S = 86400
REPLACED = "replaced"  # an offered pouch packed again because the box lacked its pieces
STORED_LEVEL = 3  # a piece kept on the relay: fast, and about a quarter of its size
_PIECE_ID = re.compile(r"[0-9a-f]{16}")
DOWN, OFFERED, ACKED = "down", "offered", "acked"  # relay.boxsync.packing's, which imports this


class HistoryRequestError(ValueError):
    """A ``history`` field that is neither a piece id nor ""."""


def announced(request):
    """What the box says of its pieces: None (it keeps none), "" (none yet) or the newest's hex id."""
    value = request.get("history")
    if value is None:
        return None
    if not isinstance(value, str) or not (value == "" or _PIECE_ID.fullmatch(value)):
        raise HistoryRequestError("'history' should be \"\" or the 16 hex digits of a piece id")
    return value


def _acked_pieces(db, box, now):
    """(pouch name, piece id) of the box's acked pouches that carried text and may be packed
    against, oldest first."""
    return db.execute(sa.select(pieces_table.c.pouch_name, pieces_table.c.piece_id)
                      .join(pouches, pouches.c.name == pieces_table.c.pouch_name)
                      .where(pieces_table.c.box_id == box.id, pieces_table.c.piece_id.isnot(None),
                             pouches.c.state == ACKED, pouches.c.done_at >= now - DAYS * DAY_S)
                      .order_by(pieces_table.c.pouch_name)).all()


def pieces_for(engine, box, newest, now=None):
    """(pieces, hex id of the newest) to pack ``box``'s next pouches against; ([], None) when
    the box names no piece the relay may use."""
    if not newest:
        return [], None
    now = int(time.time() if now is None else now)
    with engine.connect() as db:
        rows = _acked_pieces(db, box, now)
        ids = [row.piece_id for row in rows]
        if newest not in ids:
            return [], None
        chosen, total = [], 0
        for row in reversed(rows[:ids.index(newest) + 1][-pouch_history.MAX_PIECES:]):
            piece = zstandard.ZstdDecompressor().decompress(db.execute(sa.select(pieces_table.c.piece).where(
                pieces_table.c.pouch_name == row.pouch_name)).scalar_one())
            if total + len(piece) > pouch_history.MAX_HISTORY_BYTES:
                break
            chosen.append(piece)
            total += len(piece)
    return (chosen[::-1], newest) if chosen else ([], None)


def record(db, box, name, piece, against):
    """Keep pouch ``name``'s piece and what it was packed against (in record_pouch's transaction)."""
    if not piece and against is None:
        return
    db.execute(pieces_table.insert().values(
        pouch_name=name, box_id=box.id, against=against,
        piece_id=pouch_history.piece_id(piece).hex() if piece else None,
        piece=zstandard.ZstdCompressor(level=STORED_LEVEL).compress(piece) if piece else None))


def replace_unreadable(engine, box, newest):
    """Mark replaced the offered pouches of ``box`` packed against pieces newer than ``newest``
    (all of them when it names none the relay knows); their contents pack again.  Returns
    their names."""
    with engine.begin() as db:
        order = dict(db.execute(sa.select(pieces_table.c.piece_id, pieces_table.c.pouch_name).where(
            pieces_table.c.box_id == box.id, pieces_table.c.piece_id.isnot(None))).all())
        held_up_to = order.get(newest) if newest else None
        offers = db.execute(sa.select(pieces_table.c.pouch_name, pieces_table.c.against)
                            .join(pouches, pouches.c.name == pieces_table.c.pouch_name)
                            .where(pieces_table.c.box_id == box.id, pieces_table.c.against.isnot(None),
                                   pouches.c.state == OFFERED)).all()
        stale = [row.pouch_name for row in offers
                 if held_up_to is None or order.get(row.against) is None or order[row.against] > held_up_to]
        for name in stale:
            _release(db, box, name)
        _forget_lost(db, box, held_up_to)
    return stale


def _forget_lost(db, box, held_up_to):
    """The box holds no piece newer than pouch ``held_up_to``'s (none at all when None): the
    relay's copies of them go, or it would pack the box's next pouches against them again."""
    gone = sa.select(pouches.c.name).where(pouches.c.state != OFFERED)
    if held_up_to is not None:
        gone = gone.where(pouches.c.name > held_up_to)
    db.execute(pieces_table.delete().where(pieces_table.c.box_id == box.id, pieces_table.c.pouch_name.in_(gone)))


def _release(db, box, name):
    db.execute(pouches.update().where(pouches.c.name == name).values(
        state=REPLACED, done_at=int(time.time()),
        error="packed again: the box no longer holds the pouches it was packed against"))
    for column in (deliveries.c.pouch_name, deliveries.c.blobs_pouch_name):
        db.execute(deliveries.update().where(deliveries.c.box_id == box.id, column == name).values({column.name: None}))
    owed.release(db, box.id, name)
    requests.release(db, box.id, name)


def clear(db, cutoff):
    """Delete the pieces of pouches acked (or done with) by ``cutoff``, and of boxes revoked by
    then; returns how many."""
    done = sa.select(pouches.c.name).where(pouches.c.done_at.isnot(None), pouches.c.done_at <= cutoff)
    revoked = sa.select(boxes.c.id).where(boxes.c.revoked_at.isnot(None), boxes.c.revoked_at <= cutoff)
    return db.execute(pieces_table.delete().where(sa.or_(pieces_table.c.pouch_name.in_(done),
                                                         pieces_table.c.box_id.in_(revoked)))).rowcount
