"""What operators look at: per-box queues, outbound totals, quarantined mail, recent failures."""

import time

import sqlalchemy as sa

from relay import quarantine, retention
from relay.schema import boxes, deliveries, inbound, outbound, pouches
from relay.spam import holding


def box_state(revoked_at, registered):
    if revoked_at:
        return "revoked"
    return "registered" if registered else "awaiting registration"


def when(seconds):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds)) if seconds else "never"


def silent(box, now, after_s):
    """Whether a registered box has not synced for ``after_s`` seconds (since it was added, if never)."""
    if box["revoked_at"] or not box["registered"]:
        return False
    return now - (box["last_sync_at"] or box["created_at"]) > after_s


def box_rows(db):
    """Each box with its last sync, pending mail (count, bytes), quarantined mail and outbound states."""
    pending = (sa.select(deliveries.c.box_id, sa.func.count().label("pending"),
                         sa.func.coalesce(sa.func.sum(deliveries.c.size), 0).label("pending_bytes"))
               .where(quarantine.UNFINISHED,  # attachments still to follow count too
                      deliveries.c.quarantined_at.is_(None), holding.UNHELD)  # held spam: counted apart
               .group_by(deliveries.c.box_id).subquery())
    held = (sa.select(deliveries.c.box_id, sa.func.count().label("quarantined"))
            .where(quarantine.QUARANTINED).group_by(deliveries.c.box_id).subquery())
    failed = (sa.select(outbound.c.box_id, sa.func.count().label("failed"))
              .where(outbound.c.state == "failed").group_by(outbound.c.box_id).subquery())
    query = (sa.select(boxes.c.name, boxes.c.domain, boxes.c.last_sync_at, boxes.c.revoked_at, boxes.c.created_at,
                       boxes.c.token_hash.isnot(None).label("registered"),
                       sa.func.coalesce(pending.c.pending, 0).label("pending"),
                       sa.func.coalesce(pending.c.pending_bytes, 0).label("pending_bytes"),
                       sa.func.coalesce(failed.c.failed, 0).label("failed"),
                       sa.func.coalesce(held.c.quarantined, 0).label("quarantined"))
             .outerjoin(pending, pending.c.box_id == boxes.c.id)
             .outerjoin(held, held.c.box_id == boxes.c.id)
             .outerjoin(failed, failed.c.box_id == boxes.c.id)
             .order_by(boxes.c.name))
    return db.execute(query).mappings().all()


def outbound_counts(db):
    return dict(db.execute(sa.select(outbound.c.state, sa.func.count()).group_by(outbound.c.state)).all())


def inbound_count(db):
    return db.execute(sa.select(sa.func.count()).select_from(inbound)).scalar()


def recent_failures(db, limit=50):
    """Failed sends and rejected uploads, newest first, with their reasons."""
    sends = (sa.select(boxes.c.name.label("box"), sa.literal("send").label("what"),
                       outbound.c.record_id.label("item"), outbound.c.last_error.label("reason"),
                       outbound.c.done_at.label("at"))
             .join(boxes, boxes.c.id == outbound.c.box_id).where(outbound.c.state == "failed"))
    uploads = (sa.select(boxes.c.name.label("box"), sa.literal("upload").label("what"),
                         pouches.c.name.label("item"), pouches.c.error.label("reason"),
                         pouches.c.done_at.label("at"))
               .join(boxes, boxes.c.id == pouches.c.box_id).where(pouches.c.state == "rejected"))
    union = sa.union_all(sends, uploads).subquery()
    return db.execute(sa.select(union).order_by(union.c.at.desc()).limit(limit)).mappings().all()


def snapshot(engine):
    with engine.connect() as db:
        return {"boxes": box_rows(db), "outbound": outbound_counts(db), "inbound": inbound_count(db),
                "kept": retention.kept(db), "quarantined": quarantine.listing(db, quarantined_only=True, limit=100),
                "failures": recent_failures(db), "held": holding.held_counts(db)}
