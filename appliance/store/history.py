"""The pieces of the pouches the box took (pouch.container.history), on the box's side.

Each pouch the box imports leaves its piece here, in the import's transaction.
Each sync request names the newest (``newest``), which tells the relay that the
box holds every piece it took in the ``KEEP_DAYS`` before, at most
``KEEP_BYTES`` of them; the relay packs against pieces acked at most 14 days
before, at most 4 MiB (relay.boxsync.history).  A pouch naming a piece the box
lacks all the same (a store put back from a backup) makes the box forget them
all: its next request names none, and the relay packs what that pouch held
again, without them.  The pieces hold mail a user may delete: like a deleted
message's text for replies (appliance.store.reply_parents), they go after
``KEEP_DAYS``.
"""

import time

import sqlalchemy as sa

from appliance.store.tables import history_pieces
from pouch.container import history

DAY_S = 86400
KEEP_DAYS = 30
KEEP_BYTES = 3 * history.MAX_HISTORY_BYTES  # what pouches offered long ago were packed against too


def keep(conn, piece, pouch_name, now=None):
    """Keep ``piece`` of pouch ``pouch_name``, just imported; the oldest go past the limits."""
    if not piece:
        return
    now = int(time.time() if now is None else now)
    piece_id = history.piece_id(piece).hex()
    conn.execute(history_pieces.delete().where(history_pieces.c.piece_id == piece_id))
    conn.execute(history_pieces.insert().values(piece_id=piece_id, pouch_name=pouch_name, piece=piece, taken_at=now))
    conn.execute(history_pieces.delete().where(history_pieces.c.taken_at < now - KEEP_DAYS * DAY_S))
    kept = 0
    for seq, size in conn.execute(sa.select(history_pieces.c.seq, sa.func.length(history_pieces.c.piece))
                                  .order_by(history_pieces.c.seq.desc())).all():
        kept += size
        if kept > KEEP_BYTES:
            conn.execute(history_pieces.delete().where(history_pieces.c.seq <= seq))
            break


def newest(conn):
    """The hex id of the newest piece the box holds, "" when it holds none: that of the pouch
    named last, as the relay orders them (a pouch the budget deferred comes after later ones)."""
    return conn.execute(sa.select(history_pieces.c.piece_id).order_by(
        history_pieces.c.pouch_name.desc()).limit(1)).scalar() or ""


def pieces(conn, ids):
    """The pieces called ``ids`` (bytes), in their order; None if one is missing."""
    wanted = [piece_id.hex() for piece_id in ids]
    found = dict(conn.execute(sa.select(history_pieces.c.piece_id, history_pieces.c.piece)
                              .where(history_pieces.c.piece_id.in_(wanted))).all())
    return [bytes(found[piece_id]) for piece_id in wanted] if set(wanted) <= set(found) else None


def forget(conn):
    conn.execute(history_pieces.delete())
