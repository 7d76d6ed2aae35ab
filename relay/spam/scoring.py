"""Scoring inbound mail with spamd, per box: each box has its own Bayes database (spamd's
``User``, the box's name), so the same message may score differently for two boxes, and the
score is its delivery's.

The background scores mail as it arrives (``score_some``), and packing scores what is still
unscored before it holds or packs anything (``score_box``), so unscored mail goes down only
while spamd cannot be reached (or is off): such mail is settled unscored at its box's sync,
and packing takes only mail settled so (mail arriving during a sync waits for the next).  spamd is asked outside any transaction (a message takes it
a tenth of a second or more), and the score written only where none was: two relay
processes scoring the same delivery would only waste work.
"""

import logging
import time

import sqlalchemy as sa

from relay.schema import boxes, deliveries, inbound
from relay.spam.client import Client, SpamdRefused, SpamdUnavailable

log = logging.getLogger(__name__)

BATCH = 20
PROBE_TIMEOUT_S = 2  # the status page waits no longer for spamd
# Deliveries waiting for their record to be packed, not yet scored or held.
UNSCORED = sa.and_(deliveries.c.scored_at.is_(None), deliveries.c.held_at.is_(None),
                   deliveries.c.pouch_name.is_(None), deliveries.c.delivered_at.is_(None),
                   deliveries.c.quarantined_at.is_(None), deliveries.c.dropped_at.is_(None))


def raw_head(max_bytes):
    """The first ``max_bytes`` of a message's raw MIME, as a column: what spamd sees of it (its
    cap), so a batch of big mail never sits in memory whole."""
    return sa.func.substr(inbound.c.raw, 1, max_bytes, type_=sa.LargeBinary).label("raw")


def _unscored(engine, limit, box_id=None):
    query = (sa.select(deliveries.c.id, deliveries.c.inbound_id, boxes.c.name.label("box"))
             .join(inbound, inbound.c.id == deliveries.c.inbound_id)
             .join(boxes, boxes.c.id == deliveries.c.box_id)
             .where(UNSCORED, inbound.c.cleared_at.is_(None)).order_by(deliveries.c.id).limit(limit))
    if box_id is not None:
        query = query.where(deliveries.c.box_id == box_id)
    with engine.connect() as db:
        return db.execute(query).all()


def _head(engine, inbound_id, max_bytes):
    """What spamd sees of one message, read when it is asked: one message in memory at a time."""
    with engine.connect() as db:
        return db.execute(sa.select(raw_head(max_bytes)).where(inbound.c.id == inbound_id)).scalar() or b""


def score_some(engine, config, box_id=None, limit=BATCH):
    """Score up to ``limit`` unscored deliveries (of box ``box_id``, or any); returns how many
    were scored, stopping at the first while spamd cannot be reached.  One spamd gives no
    answer about is scored None (SendGrid's score, if any, decides): it never blocks the rest."""
    return _score(engine, config, box_id, limit)[0]


def _score(engine, config, box_id, limit):
    """(how many were scored, whether spamd could be reached)."""
    if not config.enabled:
        return 0, False
    client, scored, reached = Client.of(config), [], True
    for row in _unscored(engine, limit, box_id):
        try:
            verdict = client.check(_head(engine, row.inbound_id, config.max_scan_bytes), row.box)
        except SpamdUnavailable as error:
            _missing(str(error))
            reached = False
            break
        except SpamdRefused as error:
            log.warning("spam not scored delivery=%s box=%s reason=%r", row.id, row.box, str(error))
            scored.append({"scored": row.id, "score": None})
            continue
        _missing(None)
        scored.append({"scored": row.id, "score": verdict.score})
        log.info("spam scored delivery=%s box=%s score=%.1f rules=%s", row.id, row.box, verdict.score,
                 ",".join(verdict.symbols[:20]))
    if scored:
        with engine.begin() as db:
            db.execute(deliveries.update().where(deliveries.c.id == sa.bindparam("scored"),
                                                 deliveries.c.scored_at.is_(None))
                       .values(spam_score=sa.bindparam("score"), scored_at=int(time.time())), scored)
    return len(scored), reached


_was_missing = False  # this process's last word on spamd, for its log only


def _missing(reason):
    """Log when spamd goes missing and when it is back, not every poll in between."""
    global _was_missing
    if bool(reason) != _was_missing:
        if reason:
            log.warning("spamd missing: mail is not scored but for SendGrid's spam_score reason=%r", reason)
        else:
            log.warning("spamd answers again: mail is scored")
    _was_missing = bool(reason)


def score_box(engine, config, box_id):
    """Score every unscored delivery of box ``box_id``, for at most ``[spam] sync_score_s`` (the
    box waits for its sync's answer: the rest is packed at a later sync, the background scores
    it meanwhile); then settle it as unscored if spamd is off or missing: packing packs only mail
    whose score is settled (scored_at)."""
    deadline = time.monotonic() + config.sync_score_s
    while (found := _score(engine, config, box_id, BATCH)) == (BATCH, True):
        if time.monotonic() > deadline:
            log.warning("spam scoring at the sync stopped box_id=%s reason='over sync_score_s': the rest waits",
                        box_id)
            return
    if not found[1]:
        with engine.begin() as db:
            settled = db.execute(deliveries.update().where(deliveries.c.box_id == box_id, UNSCORED)
                                 .values(scored_at=int(time.time()))).rowcount
        if settled and config.enabled:
            log.warning("spam not scored box_id=%s messages=%d reason='spamd is missing'", box_id, settled)


def state(config):
    """"answering", "missing" (on, but it does not answer) or "off": for the status page."""
    if not config.enabled:
        return "off"
    probe = Client(config.host, config.port, timeout_s=min(config.timeout_s, PROBE_TIMEOUT_S))
    return "answering" if probe.ping() else "missing"
