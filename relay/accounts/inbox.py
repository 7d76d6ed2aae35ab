"""Syncing an account's inbox over one connection: the last N days first (newest first),
then whatever arrives.  Blocking: runs in the account's thread.

Everything is durable batch by batch: each batch's messages are stored as
inbound mail for the owner's box together with their map rows, in one
transaction, so a cut connection or a restart resumes without losing or
repeating mail.  A folder's UIDNEXT is saved only once its window is complete.
"""

import email.utils
import logging

from relay.accounts import mailmap, notices, registry
from relay.accounts.errors import Stopped
from relay.accounts.imap import INBOX
from relay.inbound import store as inbound

log = logging.getLogger(__name__)

SOURCE = "imap"


def batches(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def by_bytes(metas, limit):
    """Groups of ``metas`` whose sizes add up to at most ``limit`` (a bigger one goes alone)."""
    group, total = [], 0
    for meta in metas:
        if group and total + meta.size > limit:
            yield group
            group, total = [], 0
        group.append(meta)
        total += meta.size
    if group:
        yield group


class InboxSync:
    def __init__(self, engine, settings, account, token, connection, days, stopping):
        self.engine = engine
        self.config = settings.accounts
        self.max_message_bytes = settings.inbound.max_message_bytes
        self.account = account  # its row as the session started
        self.token = token
        self.connection = connection
        self.days = days  # the initial window
        self.stopping = stopping

    @property
    def account_id(self):
        return self.account["id"]

    def select(self):
        """Select the inbox; returns (its FolderState, its account_folders row)."""
        state = self.connection.select(INBOX)
        with self.engine.begin() as db:
            folder = mailmap.folder(db, self.account_id, mailmap.INBOX)
            if folder is None:
                folder = mailmap.save_folder(db, self.account_id, mailmap.INBOX, INBOX, uidvalidity=state.uidvalidity)
            elif folder["uidvalidity"] != state.uidvalidity:
                log.warning("account=%d UIDVALIDITY changed %s -> %s: syncing the window again",
                            self.account_id, folder["uidvalidity"], state.uidvalidity)
                mailmap.start_over(db, folder, state.uidvalidity)
                folder = mailmap.folder(db, self.account_id, mailmap.INBOX)
        return state, folder

    def sync(self, state, folder):
        """Bring over what is new in the selected inbox; returns how many messages were queued."""
        if folder["uidnext"] is None:  # the initial window, or resuming it
            new = self.bring(self.connection.window(self.days), state.uidvalidity, folder)
            uidnext = state.uidnext
        elif (state.uidnext, state.highestmodseq) == (folder["uidnext"], folder["highestmodseq"]) \
                and state.highestmodseq is not None:
            return 0  # CONDSTORE: nothing changed since the last look
        else:
            self.follow_server_reads(state, folder)
            uids = self.connection.uids_from(folder["uidnext"])
            new = self.bring(uids, state.uidvalidity, folder)
            uidnext = max([state.uidnext, folder["uidnext"]] + [uid + 1 for uid in uids])
        with self.engine.begin() as db:
            registry.mine(db, self.account_id, self.token)
            mailmap.save_folder(db, self.account_id, mailmap.INBOX, INBOX, uidnext=uidnext,
                                highestmodseq=state.highestmodseq)
        return new

    def bring(self, uids, uidvalidity, folder):
        """Queue those of ``uids`` (in their order) the relay has not synced yet."""
        new = 0
        for chunk in batches(uids, self.config.batch):
            if self.stopping.is_set():
                raise Stopped(self.account_id)
            with self.engine.connect() as db:
                known = mailmap.known_uids(db, folder["id"], uidvalidity, chunk)
            todo = [uid for uid in chunk if uid not in known]
            if not todo:
                continue
            metas = self.connection.metas(todo)
            for group in by_bytes(metas, self.config.batch_bytes):
                wanted = [meta.uid for meta in group if meta.size <= self.max_message_bytes]
                bodies = self.connection.bodies(wanted) if wanted else {}
                new += self.store(group, bodies, uidvalidity, folder)
        return new

    def store(self, metas, bodies, uidvalidity, folder):
        """Queue ``metas``' messages and map them, in one transaction; returns how many were new."""
        owner, box_id = self.account["owner"], self.account["box_id"]
        fetched = [(meta, bodies.get(meta.uid)) for meta in metas
                   if meta.uid in bodies or meta.size > self.max_message_bytes]  # the rest: expunged meanwhile
        keys = [mailmap.key_of(meta.message_id, raw) or f"big:{uidvalidity}:{meta.uid}" for meta, raw in fetched]
        new = 0
        with self.engine.begin() as db:
            registry.mine(db, self.account_id, self.token)  # still this process's, still active
            found = mailmap.known_keys(db, self.account_id, keys)
            for (meta, raw), key in zip(fetched, keys):
                if key in found:  # the box has it already: a re-sync found it at a new uid
                    if found[key] is not None:
                        mailmap.bind(db, found[key], folder["id"], uidvalidity, meta.uid)
                    continue
                found[key] = None  # a second copy in this batch is the same message
                if raw is None:
                    log.warning("account=%d uid=%d bytes=%d over the relay's limit: a notice goes instead",
                                self.account_id, meta.uid, meta.size)
                    raw = notices.too_big(meta, self.account["address"], self.max_message_bytes)
                inbound_id = inbound.keep(db, raw, {box_id: [owner]}, SOURCE, sender(meta))
                new += 1
                mailmap.add(db, self.account_id, folder["id"], uidvalidity, meta.uid, key, inbound_id, meta.seen)
        return new

    def follow_server_reads(self, state, folder):
        """Read state another of the user's clients set on the server goes to the box too
        (CONDSTORE servers: only what changed since the last look is fetched)."""
        if state.highestmodseq is None or folder["highestmodseq"] is None:
            return 0
        changes = self.connection.seen_since(folder["highestmodseq"])
        if not changes:
            return 0
        with self.engine.begin() as db:
            registry.mine(db, self.account_id, self.token)
            return mailmap.server_seen(db, self.account, folder["id"], state.uidvalidity, changes)

    def apply_wishes(self, state):
        """Set on the server the read state the box asked for (messages of the selected inbox)."""
        with self.engine.connect() as db:
            rows = [row for row in mailmap.wishes(db, self.account_id) if row.uidvalidity == state.uidvalidity]
        for seen in (True, False):
            uids = [row.uid for row in rows if row.seen_wanted == seen]
            if uids:
                self.connection.set_seen(uids, seen)
        if rows:
            with self.engine.begin() as db:
                mailmap.wishes_done(db, rows)
        return len(rows)


def sender(meta):
    return email.utils.parseaddr(meta.sender or "")[1]
