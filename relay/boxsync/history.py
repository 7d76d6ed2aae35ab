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
pouch packed again, without them, in the same sync (``unheld_offers``;
relay.boxsync.sync marks it replaced and its contents pending).  Nothing is set
aside: the mail was never the problem.

Pieces are mail text: they are deleted with the pouch's mail, ``keep_days``
after the box's ack (relay.retention).
"""

import time

import sqlalchemy as sa
import zstandard

from pouch.container import history as pouch_history
from relay.schema import boxes, pouch_history as pieces_table, pouches

DAYS = 14  # acked at most this long ago: the box keeps its pieces 30 days
DAY_S = 86400
REPLACED = "replaced"  # an offered pouch packed again because the box lacked its pieces
STORED_LEVEL = 3  # a piece kept on the relay: fast, and about a quarter of its size
OFFERED, ACKED = "offered", "acked"  # packing's (packing imports this module)


def _acked_pieces(db, box, now):
    """(pouch name, piece id) of the box's acked pouches that carried text and may be packed
    against, oldest first."""
    return db.execute(sa.select(pieces_table.c.pouch_name, pieces_table.c.piece_id)
                      .join(pouches, pouches.c.name == pieces_table.c.pouch_name)
                      .where(pieces_table.c.box_id == box.id, pieces_table.c.piece_id.isnot(None),
                             pouches.c.state == ACKED, pouches.c.done_at >= now - DAYS * DAY_S)
                      .order_by(pieces_table.c.pouch_name)).all()


def pieces_for(engine, box, newest, now=None):
    """The pieces (oldest first) to pack ``box``'s next pouches against: [] when the box names
    no piece the relay may use."""
    if not newest:
        return []
    now = int(time.time() if now is None else now)
    with engine.connect() as db:
        rows = _acked_pieces(db, box, now)
        names, ids = [row.pouch_name for row in rows], [row.piece_id for row in rows]
        if newest not in ids:
            return []
        candidates = names[:ids.index(newest) + 1][-pouch_history.MAX_PIECES:]
        stored = dict(db.execute(sa.select(pieces_table.c.pouch_name, pieces_table.c.piece)
                                 .where(pieces_table.c.pouch_name.in_(candidates))).all())
    unpack = zstandard.ZstdDecompressor().decompress
    return pouch_history.newest_that_fit(unpack(stored[name]) for name in reversed(candidates))


def record(db, box, name, piece, history):
    """Keep pouch ``name``'s piece and the newest of those it was packed against (``history``,
    a pouch.container.history.History), in record_pouch's transaction."""
    against = history.ids[-1].hex() if history else None
    if not piece and against is None:
        return
    db.execute(pieces_table.insert().values(
        pouch_name=name, box_id=box.id, against=against,
        piece_id=pouch_history.piece_id(piece).hex() if piece else None,
        piece=zstandard.ZstdCompressor(level=STORED_LEVEL).compress(piece) if piece else None))


def _pouch_of_each_piece(db, box):
    return dict(db.execute(sa.select(pieces_table.c.piece_id, pieces_table.c.pouch_name).where(
        pieces_table.c.box_id == box.id, pieces_table.c.piece_id.isnot(None))).all())


def unheld_offers(db, box, newest):
    """The offered pouches of ``box`` packed against pieces newer than ``newest`` (all of them
    when it names none the relay knows), which the box cannot read; the relay forgets its own
    pieces newer than that, or it would pack the box's next pouches against them again."""
    pouch_of = _pouch_of_each_piece(db, box)
    held_up_to = pouch_of.get(newest) if newest else None
    offers = db.execute(sa.select(pieces_table.c.pouch_name, pieces_table.c.against)
                        .join(pouches, pouches.c.name == pieces_table.c.pouch_name)
                        .where(pieces_table.c.box_id == box.id, pieces_table.c.against.isnot(None),
                               pouches.c.state == OFFERED)).all()
    lost = [name for name in pouch_of.values() if held_up_to is None or name > held_up_to]
    if lost:  # an offered pouch's piece is not lost: the box has not taken it yet
        db.execute(pieces_table.delete().where(pieces_table.c.pouch_name.in_(lost), pieces_table.c.pouch_name.in_(
            sa.select(pouches.c.name).where(pouches.c.name.in_(lost), pouches.c.state != OFFERED))))
    return [row.pouch_name for row in offers
            if held_up_to is None or pouch_of.get(row.against) is None or pouch_of[row.against] > held_up_to]


def clear(db, cutoff):
    """Delete the pieces of pouches acked (or done with) by ``cutoff``, and of boxes revoked by
    then; returns how many."""
    done = sa.select(pouches.c.name).where(pouches.c.done_at.isnot(None), pouches.c.done_at <= cutoff)
    revoked = sa.select(boxes.c.id).where(boxes.c.revoked_at.isnot(None), boxes.c.revoked_at <= cutoff)
    return db.execute(pieces_table.delete().where(sa.or_(pieces_table.c.pouch_name.in_(done),
                                                         pieces_table.c.box_id.in_(revoked)))).rowcount
