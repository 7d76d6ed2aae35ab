"""One connected stretch of an account's sync: log in, bring the inbox up to date, apply
the read state the box asked for, then wait in IDLE for more.  Blocking: it runs in the
account's own thread, and returns only when asked to stop (or raises)."""

import logging
import time

from relay.accounts import credentials as account_credentials
from relay.accounts import mailmap, registry, sentcopies, statuses
from relay.accounts.errors import AuthFailure
from relay.accounts.imap import Connection
from relay.accounts.inbox import InboxSync

log = logging.getLogger(__name__)

IDLE_RESTART_S = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
POLL_WITHOUT_IDLE_S = 120  # servers without IDLE are asked this often


def connect(credentials, tokens, timeout_s):
    """A logged-in Connection; an XOAUTH2 token the server refuses is renewed once."""
    try:
        return Connection.open(credentials, tokens.secret(credentials), timeout_s, tokens.rule)
    except AuthFailure:
        if credentials.auth != "xoauth2":
            raise
        tokens.forget(credentials)
        return Connection.open(credentials, tokens.secret(credentials), timeout_s, tokens.rule)


class Session:
    def __init__(self, engine, settings, account_id, token, tokens, stopping, wake):
        self.engine = engine
        self.settings = settings
        self.account_id = account_id
        self.token = token
        self.tokens = tokens
        self.stopping = stopping  # threading.Event: the account stops
        self.wake = wake  # threading.Event: the box asked for read state changes, or a Sent copy is due
        self.connection = None
        self.connected = False
        self.sent_folder = None

    def run(self):
        account = registry.load(self.engine, self.account_id, self.token)
        settings = account_credentials.open_sealed(self.settings, account["sealed"])
        self.connection = connect(settings, self.tokens, self.settings.accounts.timeout_s)
        try:
            self.connected = True
            # The server took the credentials: no longer in error, whatever the sync still has to do.
            registry.report(self.engine, self.account_id, self.token, statuses.SYNCING, "")
            self._remember_sent_folder()
            inbox = InboxSync(self.engine, self.settings, account, self.token, self.connection, settings.days,
                              self.stopping)
            wait_s = IDLE_RESTART_S if self.connection.can_idle else POLL_WITHOUT_IDLE_S
            while not self.stopping.is_set():
                self.wake.clear()
                self._round(inbox)
                self.connection.wait(wait_s, lambda: self.stopping.is_set() or self.wake.is_set())
        finally:
            self.connection.close()

    def _round(self, inbox):
        started = time.monotonic()
        state, folder = inbox.select()
        applied = inbox.apply_wishes(state)
        new = inbox.sync(state, folder)
        sentcopies.put_due(self.engine, self.account_id, self.connection, self.sent_folder, self.settings.accounts)
        registry.report(self.engine, self.account_id, self.token, statuses.SYNCING, "",
                        synced_at=int(time.time()), new_mail=new > 0)
        if new or applied:
            elapsed = time.monotonic() - started
            log.info("account=%d synced new=%d flags=%d seconds=%.1f per_s=%.0f", self.account_id, new, applied,
                     elapsed, new / elapsed if elapsed else 0)

    def _remember_sent_folder(self):
        self.sent_folder = self.connection.sent_folder()
        with self.engine.begin() as db:
            registry.mine(db, self.account_id, self.token)
            mailmap.save_folder(db, self.account_id, mailmap.SENT, self.sent_folder)

    def abort(self):
        """Break the connection from another thread: a call blocked on a silent server returns."""
        if self.connection is not None:
            self.connection.abort()
