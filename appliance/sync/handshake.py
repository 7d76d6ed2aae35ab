"""One attempt at the handshake of DESIGN.md over a link that is up.

Everything the attempt learns is saved as it goes (``store.sync_state``), so
the next attempt, in this window or the next, carries on where this one
stopped: a half-uploaded pouch resumes from its last block, a half-downloaded
one from its last byte, an imported pouch is acked and never imported again.

A pouch that will not import is tried once more at the next sync; the second
time it is set aside (``store.set_aside``) and the relay is told, so it is never
downloaded again.  An upload the relay refuses for good fails its mail, with the
relay's reason; a refusal for now packs it again at the next sync.
"""

import asyncio
import logging
import os
from pathlib import Path

from appliance.store import blob_refs, history, outbox, set_aside, sync_state
from appliance.sync import importer, outgoing
from pouch.blobs.transfer import PermanentTransferError

log = logging.getLogger(__name__)

MAX_ROUNDS = 4  # a relay that keeps offering new pouches waits for the next sync
MAX_IMPORTS = 2  # a pouch that would not import this often is set aside
MAX_REPORTS = 100  # set-aside pouches and messages told to the relay in one request


class Handshake:
    def __init__(self, store, client, transfer, work_dir, box_name, tally, budget=0):
        self.store = store
        self.client = client
        self.transfer = transfer
        self.work_dir = Path(work_dir)
        self.box_name = box_name
        self.tally = tally  # appliance.sync.job.SyncResult: counts what this attempt moved
        self.budget = budget  # bytes of pouches this sync may move; 0: no limit
        self.committed = 0  # bytes of pouches this sync took on, against the budget
        self.taken = set()  # names of the downloads counted in ``committed``
        self.deferred = {}  # {name: size} of downloads left for the next sync by the budget
        self.failed = set()  # names of pouches that would not import in this sync: not again
        self.sent_acks = []  # names acked in the last request
        self.sent_reports = []  # set_aside rows told to the relay in the last request
        self.sent_missing = []  # missing_blobs rows told to the relay in the last request
        self.history_lost = False  # a pouch needed pieces the box lacks: the relay is to hear it now

    async def run(self):
        await asyncio.to_thread(blob_refs.note_lost, self.store)  # the relay sends a lost file again
        upload = await asyncio.to_thread(self._pending_upload)
        outgoing_size = upload.size if upload and not upload.name else None
        answer = await self._request(upload, outgoing_size)
        for _ in range(MAX_ROUNDS):
            upload = await self._settle(answer, upload)
            importing = await self._receive(answer.downloads)
            try:  # pouches are imported (in a thread) while the upload keeps the link busy
                sent = await self._send(upload)
            finally:
                imported = await importing
            if not (sent or imported or self._owed() or (upload and upload.done)):
                return
            answer = await self._request(upload, None)
        await self._settle(answer, upload)

    # -- requests -------------------------------------------------------------

    def _owed(self):
        """Whether the relay has something to hear: acks, what the box set aside, or that it
        lost its pieces (so that what it could not read is packed again in this sync)."""
        if self.history_lost:
            return True
        with self.store.read() as conn:
            return bool(sync_state.unacked(conn) or set_aside.unreported(conn, 1) or blob_refs.unreported(conn, 1)[0])

    async def _request(self, upload, outgoing_size):
        with self.store.read() as conn:
            self.sent_acks = sync_state.unacked(conn)
            self.sent_reports = set_aside.unreported(conn, MAX_REPORTS)
            want_key = sync_state.account_key(conn) is None  # a box registered before accounts
            self.sent_missing, missing = blob_refs.unreported(conn, MAX_REPORTS)
            newest_piece = history.newest(conn)
        self.history_lost = False
        uploaded = [upload.name] if upload and upload.done else []
        return await self.client.sync(self.sent_acks, uploaded, outgoing_size, want_account_key=want_key,
                                      unreadable=[_report(row) for row in self.sent_reports], missing=missing,
                                      history=newest_piece)

    async def _settle(self, answer, upload):
        """Take in what the relay's Answer says; returns the Upload still in flight, if any."""
        with self.store.write() as conn:
            sync_state.forget_acked(conn, self.sent_acks)  # acked in the request's transaction
            set_aside.reported(conn, [row["id"] for row in self.sent_reports])
            blob_refs.reported(conn, self.sent_missing)
            if answer.keep_days is not None:
                blob_refs.save_keep_days(conn, answer.keep_days)
            if answer.account_key is not None and not sync_state.save_account_key(conn, answer.account_key):
                log.error("the relay sent an account key that is not one: ignored")
        if upload and upload.name in answer.accepted:
            return await asyncio.to_thread(self._uploaded, upload, answer.resend)
        for refusal in answer.rejected:
            if upload and refusal.name == upload.name:
                return await asyncio.to_thread(self._refused, upload, refusal)
        if answer.upload_error:
            log.warning("the relay gave no upload slot: %s; the mail waits for the next sync", answer.upload_error)
        if answer.upload and upload and not upload.name:
            upload.name, upload.url, upload.untouched = answer.upload.name, answer.upload.url, True
            self._save_upload(upload)
        return upload

    # -- outgoing -------------------------------------------------------------

    def _pending_upload(self):
        """The Upload in flight from an earlier attempt, else a new one of what the relay is owed."""
        with self.store.read() as conn:
            upload = sync_state.upload(conn)
        if upload and Path(upload.path).is_file():
            return upload
        path = self.work_dir / "outgoing.pouch"
        path.parent.mkdir(parents=True, exist_ok=True)
        contents = outgoing.pack(self.store, path, self.box_name, self.budget)
        if contents is None:
            return None
        size = path.stat().st_size
        self.committed += size
        upload = sync_state.Upload(path=str(path), size=size, contents=contents)
        self._save_upload(upload)
        return upload

    async def _send(self, upload):
        if not upload or not upload.name or upload.done:
            return False
        fresh, upload.untouched = upload.untouched, False
        if fresh:  # saved before the first block goes: after a crash the next attempt asks the store
            self._save_upload(upload)
        try:
            report = await self.transfer.upload(upload.url, upload.path, fresh=fresh)
        except Exception as error:
            self.tally.count_transfer(getattr(error, "report", None), up=True)
            if isinstance(error, PermanentTransferError):  # e.g. the URL expired: ask for a new one
                upload.name = upload.url = None
                self._save_upload(upload)
            raise
        self.tally.count_transfer(report, up=True)
        upload.done = True
        self._save_upload(upload)
        return True

    def _uploaded(self, upload, resend=()):
        with self.store.write() as conn:
            sync_state.upload_taken(conn, upload.contents)
            blob_refs.send_again(self.store, conn, set(resend) & set(upload.contents.uids))  # with the bytes
            sync_state.save_upload(conn, None)
        self.tally.messages_up += len(upload.contents.uids)
        Path(upload.path).unlink(missing_ok=True)
        return None

    def _refused(self, upload, refusal):
        """The relay will not take ``upload``: for good, its mail fails with the relay's reason;
        for now, everything in it is packed again at the next sync."""
        with self.store.write() as conn:
            if refusal.permanent:
                failed = outbox.mark_failed(conn, upload.contents.uids, f"the relay refused it: {refusal.error}")
                log.error("the relay refused upload %s for good: %s; %d messages failed",
                          upload.name, refusal.error, failed)
            else:
                log.warning("the relay could not take upload %s yet: %s; it is packed again next time",
                            upload.name, refusal.error)
            sync_state.save_upload(conn, None)
        Path(upload.path).unlink(missing_ok=True)
        return None

    def _save_upload(self, upload):
        with self.store.write() as conn:
            sync_state.save_upload(conn, upload)

    # -- incoming -------------------------------------------------------------

    async def _receive(self, offers):
        """Download each offered pouch not imported (nor set aside) yet; returns a task
        importing them in turn (its result: whether any was).  Imports started are awaited
        even on failure, so the next attempt never imports a pouch still being imported."""
        with self.store.read() as conn:
            done = set(sync_state.unacked(conn)) | set_aside.pouch_names(conn)
        importing = _done(False)
        try:
            for offer in offers:
                if offer.name in done or offer.name in self.failed:
                    continue  # imported (its ack lost with the link), or unreadable
                if not self._affordable(offer.name, offer.size):
                    self.deferred[offer.name] = offer.size
                    log.info("pouch %s (%d bytes) waits for the next sync: over the budget",
                             offer.name, offer.size)
                    continue
                dest = await self._download(offer)
                importing = asyncio.ensure_future(self._import(dest, offer.name, after=importing))
        except BaseException:
            await importing
            raise
        return importing

    async def _download(self, offer):
        dest = self.work_dir / "incoming" / offer.name.replace("/", "_")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            report = await self.transfer.download(offer.url, dest, offer.size, offer.sha256)
        except Exception as error:
            self.tally.count_transfer(getattr(error, "report", None), up=False)
            raise
        self.tally.count_transfer(report, up=False)
        return dest

    def _affordable(self, name, size):
        """Whether download ``name`` fits the budget (the first of a sync always does)."""
        if name in self.taken:
            return True  # counted by an attempt the link cut short
        if self.budget and self.committed and self.committed + size > self.budget:
            return False
        self.taken.add(name)
        self.committed += size
        return True

    async def _import(self, path, name, after):
        """Import one pouch after the one before; True if it was.  Only an unreadable pouch
        is this pouch's fault: any other exception is the box's and goes up."""
        imported = await after or False  # one pouch at a time, in the order offered
        try:
            result = await asyncio.to_thread(importer.import_pouch, self.store, path, name,
                                             keep_piece=not self.history_lost)
        except importer.HistoryLacking as error:  # not the pouch's fault: the relay packs it again
            log.warning("pouch %s waits to be packed again: %s", name, error)
            self.history_lost = True
            return imported
        except importer.UnreadablePouch as error:
            await asyncio.to_thread(self._unreadable, path, name, str(error))
            return imported
        finally:
            path.unlink(missing_ok=True)
        self.tally.messages_down += result.messages
        log.info("imported %s: %d messages, %d statuses, %d set aside", name, result.messages,
                 result.statuses, result.set_aside)
        return True

    def _unreadable(self, path, name, reason):
        """Pouch ``name`` would not import: tried again at the next sync, then set aside."""
        self.failed.add(name)
        with self.store.write() as conn:
            times = sync_state.import_failed(conn, name)
            if times >= MAX_IMPORTS:
                file = set_aside.file_name(name)
                os.replace(path, set_aside.folder(self.store) / file)
                set_aside.add(conn, name, reason, file=file)
                sync_state.forget_failures(conn, name)
        if times >= MAX_IMPORTS:
            log.error("pouch %s would not import %d times: set aside, the relay is told: %s", name, times, reason)
        else:
            log.error("pouch %s would not import, tried again at the next sync: %s", name, reason)


def _report(row):
    """What the relay hears of one set-aside row."""
    report = {"name": row["pouch_name"], "error": row["reason"]}
    if row["record_id"] is not None:
        report["message"] = row["record_id"]
    return report


def _done(value):
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future
