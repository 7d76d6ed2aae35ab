"""The sync handshake (DESIGN.md): acks, uploads taken over, new pouches offered.

Every step is idempotent, and every name a box sends is looked up among that
box's own pouches only: another box's pouch name is simply unknown here.
"""

import asyncio
import base64
import logging
import re
import time

import sqlalchemy as sa

from relay import keys, owed, quarantine
from relay.accounts import mailmap
from relay.boxsync import history, holdings, packing, requests, takeover
from relay.schema import boxes, deliveries, pouches, records_owed, requested_blobs

log = logging.getLogger(__name__)

MAX_NAMES = 1000  # pouch names in one request
PARKED = "parked"  # an offered pouch the box could not read: kept, never offered again
MAX_REASON = 1000  # characters kept of a box's reason
MAX_LOGGED = 20  # messages a box set aside, logged per request
_PIECE_ID = re.compile(r"[0-9a-f]{16}")


class SyncRequestError(ValueError):
    """A sync request that does not follow the handshake's shape."""


class OverQuota(Exception):
    """The box asks to upload more than its quota leaves: the rest of its sync goes on."""


def history_in(request):
    """What the box says of its pieces (relay.boxsync.history): None (it keeps none), "" (none
    yet) or the newest's hex id."""
    value = request.get("history")
    if value is not None and not (isinstance(value, str) and (value == "" or _PIECE_ID.fullmatch(value))):
        raise SyncRequestError("'history' should be \"\" or the 16 hex digits of a piece id")
    return value


def names_in(request, key):
    names = request.get(key) or []
    if not isinstance(names, list) or len(names) > MAX_NAMES or not all(isinstance(n, str) for n in names):
        raise SyncRequestError(f"'{key}' should be a list of at most {MAX_NAMES} pouch names")
    return list(dict.fromkeys(names))


def outgoing_size(request, max_bytes):
    outgoing = request.get("outgoing")
    if outgoing is None:
        return None
    size = outgoing.get("size") if isinstance(outgoing, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise SyncRequestError("'outgoing' should be null or {\"size\": bytes}")
    if size > max_bytes:
        raise SyncRequestError(f"an upload of {size} bytes is over this relay's limit of {max_bytes}")
    return size


def acknowledge(engine, box, names):
    """Mark the mail of these offered pouches delivered; returns the names acked now or before."""
    now = int(time.time())
    with engine.begin() as db:
        owned = db.execute(sa.select(pouches.c.name).where(
            pouches.c.name.in_(names), pouches.c.box_id == box.id,
            pouches.c.direction == packing.DOWN)).scalars().all()
        if owned:
            db.execute(pouches.update().where(pouches.c.name.in_(owned), pouches.c.state == packing.OFFERED)
                       .values(state=packing.ACKED, done_at=now))
            delivered = ((deliveries.c.pouch_name, deliveries.c.delivered_at),
                         (deliveries.c.blobs_pouch_name, deliveries.c.blobs_delivered_at),
                         (records_owed.c.pouch_name, records_owed.c.delivered_at),
                         (requested_blobs.c.pouch_name, requested_blobs.c.delivered_at))
            for pouch_column, done_column in delivered:
                table = pouch_column.table
                db.execute(table.update().where(
                    table.c.box_id == box.id, pouch_column.in_(owned), done_column.is_(None),
                ).values({done_column.name: now}))
            holdings.firm(db, box.id, owned, now)  # the blobs those pouches noted are the box's now
        db.execute(boxes.update().where(boxes.c.id == box.id).values(last_sync_at=now))
    return owned


def unreadable_in(request):
    """{pouch name: reason} of the pouches the box set aside whole, and [(pouch, message, reason)]
    of the messages it set aside one by one (``"unreadable": [{"name", "error"[, "message"]}]``)."""
    reports = request.get("unreadable") or []
    if not isinstance(reports, list) or len(reports) > MAX_NAMES or not all(
            isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("error", ""), str)
            and isinstance(r.get("message", ""), str) for r in reports):
        raise SyncRequestError(f"'unreadable' should be a list of at most {MAX_NAMES} "
                               "{\"name\", \"error\"[, \"message\"]}")
    pouch_reasons = {r["name"]: r.get("error", "")[:MAX_REASON] for r in reports if "message" not in r}
    messages = [(r["name"], r["message"], r.get("error", "")[:MAX_REASON]) for r in reports if "message" in r]
    return pouch_reasons, messages


def missing_in(request):
    """[(record id, sha256)] of attachments the box lacks though the relay counted on it holding
    them (``"missing": [{"message", "sha256": hex}]``)."""
    reports = request.get("missing") or []
    if not isinstance(reports, list) or len(reports) > MAX_NAMES or not all(
            isinstance(r, dict) and isinstance(r.get("message"), str) and isinstance(r.get("sha256"), str)
            and len(r["sha256"]) == 64 and all(c in "0123456789abcdef" for c in r["sha256"]) for r in reports):
        raise SyncRequestError(f"'missing' should be a list of at most {MAX_NAMES} {{\"message\", \"sha256\"}}")
    return [(r["message"], bytes.fromhex(r["sha256"])) for r in reports]


def park(engine, box, reasons):
    """Park the offered pouches the box could not read (``{name: reason}``): never offered
    again; their mail quarantined with the reason (``mail retry`` packs it anew); the
    records owed they carried travel again in the next pouch.  Returns the names parked now."""
    parked, now = [], int(time.time())
    with engine.begin() as db:
        for name, reason in reasons.items():
            if db.execute(pouches.update().where(
                    pouches.c.name == name, pouches.c.box_id == box.id, pouches.c.direction == packing.DOWN,
                    pouches.c.state == packing.OFFERED,
            ).values(state=PARKED, error=f"the box could not read it: {reason}"[:MAX_REASON], done_at=now)).rowcount:
                _release(db, box, name, f"the box could not read pouch {name}: {reason}", now)
                parked.append(name)
    for name in parked:
        log.error("pouch parked box=%s pouch=%s reason=%r", box.name, name, reasons[name])
    return parked


def replace(engine, box, newest_piece):
    """Mark replaced the offered pouches packed against pieces the box no longer holds (it names
    ``newest_piece``: relay.boxsync.history); their mail, records owed and requests pack again
    in this sync.  Returns their names."""
    now = int(time.time())
    with engine.begin() as db:
        stale = history.unheld_offers(db, box, newest_piece)
        for name in stale:
            db.execute(pouches.update().where(pouches.c.name == name).values(
                state=history.REPLACED, done_at=now,
                error="packed again: the box no longer holds the pouches it was packed against"))
            _release(db, box, name)
    return stale


def _release(db, box, name, why=None, now=None):
    """The mail of pouch ``name`` packs again, or, with ``why``, waits for an operator (a parked
    pouch); its records owed and requests go in the next pouch."""
    quarantined = {"quarantined_at": now, "quarantine_reason": why[:quarantine.REASON_CHARS]} if why else {}
    for column in (deliveries.c.pouch_name, deliveries.c.blobs_pouch_name):
        db.execute(deliveries.update().where(
            deliveries.c.box_id == box.id, column == name, deliveries.c.quarantined_at.is_(None),
        ).values({column.name: None, **quarantined}))
    owed.release(db, box.id, name)
    requests.release(db, box.id, name)


def rejection(engine, box, name):
    """Why upload ``name`` was refused for good, or None if it was not (it may come again)."""
    with engine.connect() as db:
        return db.execute(sa.select(pouches.c.error).where(
            pouches.c.name == name, pouches.c.box_id == box.id, pouches.c.direction == takeover.UP,
            pouches.c.state == takeover.REJECTED)).scalar()


def expect_upload(engine, box, size, quota):
    """The name of a new upload of ``size`` bytes; OverQuota if the box's uploads waiting
    (staged, or uploaded and not handed over) would then hold more than ``quota`` bytes."""
    name = packing.pouch_name(box, takeover.UP)
    with engine.begin() as db:
        waiting = db.execute(sa.select(sa.func.coalesce(sa.func.sum(pouches.c.size), 0)).where(
            pouches.c.box_id == box.id, pouches.c.direction == takeover.UP,
            pouches.c.state == takeover.EXPECTED)).scalar()
        if waiting + size > quota:
            raise OverQuota(f"an upload of {size} bytes is refused: this box's uploads waiting on the relay "
                            f"hold {waiting} bytes of its quota of {quota} (they expire if never handed over)")
        db.execute(pouches.insert().values(name=name, box_id=box.id, direction=takeover.UP,
                                           state=takeover.EXPECTED, size=size, created_at=int(time.time())))
    return name


def offered(engine, box):
    with engine.connect() as db:
        return db.execute(sa.select(pouches.c.name, pouches.c.size, pouches.c.sha256).where(
            pouches.c.box_id == box.id, pouches.c.direction == packing.DOWN,
            pouches.c.state == packing.OFFERED).order_by(pouches.c.name)).all()


def answer_document(downloads, keep_days, **given):
    """The answer's fixed fields (``keep_days``: how long after an ack the box may name a blob),
    and those of ``given`` that say something: an empty list or a null crosses the modem for
    nothing, and a box reads an absent field as empty."""
    return {"downloads": downloads, "keep_days": keep_days, **{key: value for key, value in given.items() if value}}


async def handle(engine, store, settings, box, request):
    """One sync request of ``box``; returns the response document."""
    received = names_in(request, "received")
    uploaded = names_in(request, "uploaded")
    size = outgoing_size(request, settings.sync.max_upload_bytes)
    unreadable, refused_messages = unreadable_in(request)
    missing = missing_in(request)
    newest_piece = history_in(request)
    acked = await asyncio.to_thread(acknowledge, engine, box, received)
    await asyncio.to_thread(park, engine, box, unreadable)
    replaced = []  # offered, packed against what the box no longer holds: packed again below
    if newest_piece is not None:
        replaced = await asyncio.to_thread(replace, engine, box, newest_piece)
    await asyncio.to_thread(holdings.send_again, engine, box, missing)
    for pouch_name, message, reason in refused_messages[:MAX_LOGGED]:  # its mail was acked: for the log
        log.error("message set aside by the box box=%s pouch=%s message=%r reason=%r",
                  box.name, pouch_name, message, reason)
    for name in acked + replaced:
        await store.delete(name)
    accepted, rejected = [], []
    for name in uploaded:
        try:
            await takeover.take_over(engine, store, settings, box, name)
            accepted.append(name)
        except takeover.TakeoverError as error:  # for good once rejected; else the box packs it again
            reason = await asyncio.to_thread(rejection, engine, box, name)
            rejected.append({"name": name, "error": reason or str(error), "permanent": reason is not None})
    upload = upload_error = None
    if size is not None:
        try:
            name = await asyncio.to_thread(expect_upload, engine, box, size, settings.sync.box_quota_bytes)
            upload = {"name": name, "url": store.upload_url(name, settings.storage.url_lifetime_s, max_bytes=size)}
        except OverQuota as error:
            log.warning("sync box=%s upload refused: %s", box.name, error)
            upload_error = str(error)
    await packing.pack_pending(engine, store, settings, box, extra=mailmap.tags,  # mail from an external account
                               newest_piece=newest_piece)
    lifetime = settings.storage.url_lifetime_s
    downloads = [{"name": row.name, "url": store.download_url(row.name, lifetime), "size": row.size,
                  "sha256": row.sha256} for row in await asyncio.to_thread(offered, engine, box)]
    log.info("sync box=%s acked=%d accepted=%d rejected=%d downloads=%d upload=%s", box.name,
             len(acked), len(accepted), len(rejected), len(downloads), upload is not None)
    # Taken over but for these: the box sends them again with their bytes.
    resend = await asyncio.to_thread(holdings.held_back, engine, box, accepted)
    account_key = None
    if request.get("want_account_key") is True:  # a box registered before accounts existed
        account_key = base64.b64encode(keys.account_keys(settings)[1]).decode()
    return answer_document(downloads, settings.retention.keep_days, upload=upload, accepted=accepted,
                           rejected=rejected, resend=resend, upload_error=upload_error, account_key=account_key)
