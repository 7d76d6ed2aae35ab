"""One attempt at the handshake of DESIGN.md over a link that is up.

Everything the attempt learns is saved as it goes (``store.sync_state``), so
the next attempt, in this window or the next, carries on where this one
stopped: a half-uploaded pouch resumes from its last block, a half-downloaded
one from its last byte, an imported pouch is acked and never imported again.
"""

import asyncio
import logging
from pathlib import Path

from appliance.store import sync_state
from appliance.sync import importer, outgoing
from pouch.blobs.transfer import PermanentTransferError

log = logging.getLogger(__name__)

MAX_ROUNDS = 4  # a relay that keeps offering new pouches waits for the next sync


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

    async def run(self):
        upload = await asyncio.to_thread(self._pending_upload)
        outgoing_size = upload["size"] if upload and not upload["name"] else None
        answer = await self._request(upload, outgoing_size)
        for _ in range(MAX_ROUNDS):
            upload = await self._settle(answer, upload)
            importing = await self._receive(answer["downloads"])
            try:  # pouches are imported (in a thread) while the upload keeps the link busy
                sent = await self._send(upload)
            finally:
                imported = await importing
            moved = sent or imported
            if not moved and not self._acks() and not (upload and upload["done"]):
                return
            answer = await self._request(upload, None)
        await self._settle(answer, upload)

    # -- requests -------------------------------------------------------------

    def _acks(self):
        with self.store.read() as conn:
            return sync_state.unacked(conn)

    async def _request(self, upload, outgoing_size):
        with self.store.read() as conn:
            self.sent_acks = sync_state.unacked(conn)
            want_key = sync_state.account_key(conn) is None  # a box registered before accounts
        uploaded = [upload["name"]] if upload and upload["done"] else []
        return await self.client.sync(self.sent_acks, uploaded, outgoing_size, want_account_key=want_key)

    async def _settle(self, answer, upload):
        """Take in what the relay's answer says; returns the upload still in flight, if any."""
        with self.store.write() as conn:
            sync_state.forget_acked(conn, self.sent_acks)  # acked in the request's transaction
            if "account_key" in answer and not sync_state.save_account_key(conn, answer["account_key"]):
                log.error("the relay sent an account key that is not one: ignored")
        if upload and upload["name"] in answer.get("accepted", []):
            return await asyncio.to_thread(self._uploaded, upload)
        for refused in answer.get("rejected", []):
            if upload and isinstance(refused, dict) and refused.get("name") == upload["name"]:
                log.error("the relay refused upload %s: %s; it is packed again next time",
                          upload["name"], refused.get("error"))
                return self._drop_upload(upload)
        if answer.get("upload") and upload and not upload["name"]:
            upload.update(name=answer["upload"]["name"], url=answer["upload"]["url"])
            self._save_upload(upload)
        return upload

    # -- outgoing -------------------------------------------------------------

    def _pending_upload(self):
        """The pouch in flight from an earlier attempt, else a new one of what the relay is owed."""
        with self.store.read() as conn:
            upload = sync_state.upload(conn)
        if upload and Path(upload["path"]).is_file():
            return upload
        path = self.work_dir / "outgoing.pouch"
        path.parent.mkdir(parents=True, exist_ok=True)
        packed = outgoing.pack(self.store, path, self.box_name, self.budget)
        if packed is None:
            return None
        self.committed += path.stat().st_size
        upload = {"path": str(path), "size": path.stat().st_size, "name": None, "url": None,
                  "done": False, **packed}
        self._save_upload(upload)
        return upload

    async def _send(self, upload):
        if not upload or not upload["name"] or upload["done"]:
            return False
        try:
            report = await self.transfer.upload(upload["url"], upload["path"])
        except Exception as error:
            self.tally.count_transfer(getattr(error, "report", None), up=True)
            if isinstance(error, PermanentTransferError):  # e.g. the URL expired: ask for a new one
                upload.update(name=None, url=None)
                self._save_upload(upload)
            raise
        self.tally.count_transfer(report, up=True)
        upload["done"] = True
        self._save_upload(upload)
        return True

    def _uploaded(self, upload):
        with self.store.write() as conn:
            sync_state.upload_taken(conn, upload)
            sync_state.save_upload(conn, None)
        self.tally.messages_up += len(upload["uids"])
        Path(upload["path"]).unlink(missing_ok=True)
        return None

    def _drop_upload(self, upload):
        with self.store.write() as conn:
            sync_state.save_upload(conn, None)
        Path(upload["path"]).unlink(missing_ok=True)
        return None

    def _save_upload(self, upload):
        with self.store.write() as conn:
            sync_state.save_upload(conn, upload)

    # -- incoming -------------------------------------------------------------

    async def _receive(self, offers):
        """Download each offered pouch not imported yet; returns a task importing them in
        turn (its result: whether any was).  Imports started are awaited even on failure,
        so the next attempt never imports a pouch that is still being imported."""
        already = set(self._acks())
        importing = _done(False)
        try:
            for offer in offers:
                if offer["name"] in already:
                    continue  # imported; its ack was lost with the link
                if not self._affordable(offer["name"], offer["size"]):
                    self.deferred[offer["name"]] = offer["size"]
                    log.info("pouch %s (%d bytes) waits for the next sync: over the budget",
                             offer["name"], offer["size"])
                    continue
                dest = await self._download(offer)
                importing = asyncio.ensure_future(self._import(dest, offer["name"], after=importing))
        except BaseException:
            await importing
            raise
        return importing

    async def _download(self, offer):
        dest = self.work_dir / "incoming" / offer["name"].replace("/", "_")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            report = await self.transfer.download(offer["url"], dest, offer["size"], offer["sha256"])
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
        await after  # one pouch at a time, in the order offered
        try:
            result = await asyncio.to_thread(importer.import_pouch, self.store, path, name)
        except importer.UnreadablePouch as error:
            log.error("downloaded pouch is unreadable, left unacked at the relay: %s", error)
        else:
            self.tally.messages_down += result.messages
            log.info("imported %s: %d messages, %d statuses", name, result.messages, result.statuses)
        path.unlink(missing_ok=True)
        return True


def _done(value):
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future
