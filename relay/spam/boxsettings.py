"""What a box's admin and users chose for what comes down (BoxSettingsRecord), kept on the
boxes table: ``spam_threshold`` (relay.spam.holding), ``attachment_limit`` and ``user_limits``
(relay.boxsync.placeholders reads them).  The last record of an upload wins.

A box is untrusted: each value is clamped to pouch.limits' bounds, a user's limit may only
lower the box's, and what is changed or dropped is logged with the reason.
"""

import json
import logging

from pouch import limits
from relay.schema import boxes

log = logging.getLogger(__name__)

MAX_USER_LIMITS = 1000  # a box's users; more is nobody's
MAX_ADDRESS_CHARS = 320


def apply(db, box, records):
    """Keep the last of ``records`` (BoxSettingsRecords of one upload), clamped."""
    if not records:
        return
    values, problems = clamped(records[-1])
    for problem in problems:
        log.warning("box settings clamped box=%s reason=%r", box.name, problem)
    db.execute(boxes.update().where(boxes.c.id == box.id).values(
        spam_threshold=values["spam_threshold"], attachment_limit=values["attachment_limit"],
        user_limits=json.dumps(values["user_limits"], sort_keys=True)))
    log.info("box settings box=%s spam_threshold=%.1f attachment_limit=%d user_limits=%d", box.name,
             values["spam_threshold"], values["attachment_limit"], len(values["user_limits"]))


def clamped(record):
    """({spam_threshold, attachment_limit, user_limits}, [what had to change, and why])."""
    problems = []
    threshold = _within(float(record.spam_threshold), limits.SPAM_THRESHOLD_MIN, limits.SPAM_THRESHOLD_MAX,
                        "spam_threshold", problems)
    box_limit = _within(int(record.attachment_limit), 0, limits.ATTACHMENT_LIMIT_MAX, "attachment_limit", problems)
    users = {}
    for address, limit in list(record.user_limits.items()):
        address = address.strip().lower()
        if len(users) >= MAX_USER_LIMITS:
            problems.append(f"user_limits: more than {MAX_USER_LIMITS} users; the rest are dropped")
            break
        if "@" not in address or len(address) > MAX_ADDRESS_CHARS or not address.isprintable():
            problems.append(f"user_limits: {address[:80]!r} is not an address; dropped")
            continue
        users[address] = _within(limit, 0, box_limit, f"user_limits[{address[:80]}]", problems)
    return {"spam_threshold": threshold, "attachment_limit": box_limit, "user_limits": users}, problems


def _within(value, low, high, name, problems):
    if low <= value <= high:
        return value
    kept = min(max(value, low), high)
    problems.append(f"{name}: {value} is outside {low}..{high}; {kept} kept")
    return kept
