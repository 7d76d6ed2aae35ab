"""A box's users say mail is spam or not (VerdictRecords of its upload): spamd learns it in
that box's Bayes database (TELL, ``User`` the box's name) from the raw mail the relay still
keeps; "not spam" on held mail brings it, too.

A box is untrusted: a verdict naming mail that never came to it, an id that is no message,
mail whose bytes retention cleared, is logged and ignored; so is one spamd could not take
(it is missing): a verdict is a hint, the mail beside it goes on.  Only the last verdict of
an upload on a message counts.
"""

import logging

from pouch import limits
from relay.spam import holding, scoring
from relay.spam.client import Client, SpamdRefused, SpamdUnavailable

log = logging.getLogger(__name__)

# Of one upload: a box packs no more requests, verdicts and settings together (pouch.limits).
MAX_VERDICTS = limits.MAX_REQUESTS_PER_UPLOAD


class Unknown(LookupError):
    """The verdict names nothing this box may train on."""


def train(engine, settings, box, verdicts):
    """Learn each message's last verdict; returns how many spamd learnt."""
    latest = {}
    for verdict in verdicts[:MAX_VERDICTS]:
        latest[verdict.message_id] = verdict
    if len(verdicts) > MAX_VERDICTS:
        log.warning("verdicts ignored box=%s count=%d reason='over %d in one upload'", box.name,
                    len(verdicts) - MAX_VERDICTS, MAX_VERDICTS)
    learnt = 0
    for message_id, verdict in latest.items():
        try:
            learnt += _train_one(engine, settings, box, message_id, verdict)
        except Unknown as why:
            log.warning("verdict ignored box=%s message=%r user=%r reason=%r", box.name, message_id[:40],
                        verdict.user[:80], str(why))
        except Exception:  # noqa: BLE001 - the upload is taken already: one verdict's trouble stays its own
            log.exception("verdict failed box=%s message=%r", box.name, message_id[:40])
    return learnt


def _train_one(engine, settings, box, message_id, verdict):
    row = _kept(engine, box, message_id, settings.spam.max_scan_bytes)
    learnt = False
    if settings.spam.enabled:
        try:
            learnt = Client.of(settings.spam).tell(row.raw, box.name, verdict.spam)
        except (SpamdUnavailable, SpamdRefused) as error:
            log.warning("verdict not learnt box=%s message=%s reason=%r", box.name, message_id, str(error))
    log.info("verdict box=%s message=%s spam=%s learnt=%s user=%r", box.name, message_id, verdict.spam, learnt,
             verdict.user[:80])
    if not verdict.spam and row.held_at is not None and row.released_at is None:
        with engine.begin() as db:
            holding.bring(db, box, message_id, verdict.user)
    return int(learnt)


def _kept(engine, box, message_id, max_bytes):
    """This box's delivery of relay record ``message_id``, with what spamd sees of its raw mail;
    Unknown if none."""
    with engine.connect() as db:
        return holding.kept_delivery(db, box, message_id, Unknown, scoring.raw_head(max_bytes))
