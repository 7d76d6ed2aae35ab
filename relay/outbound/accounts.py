"""Sending mail a box user wrote from an external address: through that account's own SMTP
server, then a copy into its Sent folder over IMAP, as a mail client would. A transport like
the others (relay.outbound.transports.base): the same MIME, the same failures."""

import logging
import ssl

import sqlalchemy as sa

from pouch import mime
from relay.accounts import credentials as account_credentials
from relay.accounts import mailmap, sentcopies
from relay.accounts.errors import AccountError, AuthFailure, Unreachable
from relay.accounts.session import connect
from relay.outbound.transports import PermanentFailure, TemporaryFailure, Transport, smtp_send
from relay.schema import accounts

log = logging.getLogger(__name__)

# Providers whose SMTP server files what it sends in Sent itself: a copy would show twice.
FILES_SENT_ITSELF = ("imap.gmail.com",)


class AccountSender(Transport):
    def __init__(self, engine, settings, tokens=None):
        self.engine = engine
        self.settings = settings
        self.tokens = tokens or account_credentials.TokenSource(
            settings.accounts.timeout_s, settings.accounts.allow_private_hosts)

    @property
    def timeout_s(self):
        """How long one send may take: SMTP, then the copy to Sent."""
        return 2 * self.settings.accounts.timeout_s

    def send(self, message):
        """Send ``message`` through the account named by its record's extra["account"]; returns a note."""
        record = message.record
        account = self._account(message.box_id, record.extra["account"])
        try:
            settings = account_credentials.open_sealed(self.settings, account["sealed"])
            secret = self.tokens.secret(settings)
        except AuthFailure as error:
            raise PermanentFailure(str(error)) from None
        except Unreachable as error:
            raise TemporaryFailure(str(error)) from None
        if not settings.smtp_host:
            raise PermanentFailure(f"the account {account['address']} has no SMTP server in its settings")
        raw = mime.build(record, message.blobs)
        note = smtp_send(raw, message.sender or account["address"], message.recipients, settings.smtp_host,
                         settings.smtp_port, settings.smtp_security, self.settings.accounts.timeout_s,
                         login=_login(settings, secret, self.tokens.rule), context=ssl.create_default_context())
        self._copy_to_sent(account, settings, raw)
        return note

    def _account(self, box_id, box_account_id):
        with self.engine.connect() as db:
            row = db.execute(sa.select(accounts).where(
                accounts.c.box_id == box_id, accounts.c.box_account_id == str(box_account_id))).mappings().first()
            sent = row and mailmap.folder(db, row["id"], mailmap.SENT)
        if row is None:
            raise PermanentFailure(f"the account it is sent from ({box_account_id}) is not set up on the relay")
        return dict(row, sent_folder=sent["name"] if sent else None)

    def _copy_to_sent(self, account, settings, raw):
        """APPEND the sent message to the account's Sent folder, or keep it for the account's
        session to put there when the server answers (relay.accounts.sentcopies)."""
        if settings.imap_host.lower() in FILES_SENT_ITSELF:
            return
        try:
            connection = connect(settings, self.tokens, self.settings.accounts.timeout_s)
            try:
                connection.append(account["sent_folder"] or connection.sent_folder(), raw)
            finally:
                connection.close()
        except AccountError as error:
            log.warning("account=%d sent; its copy for Sent waits: %s", account["id"], error)
            sentcopies.keep(self.engine, account["id"], raw, error, self.settings.accounts)


def _login(settings, secret, rule):
    def password(smtp):
        _check_peer(rule, settings, smtp)
        smtp.login(settings.username, secret)

    if settings.auth != "xoauth2":
        return password
    token = f"user={settings.username}\1auth=Bearer {secret}\1\1"

    def xoauth2(smtp):
        _check_peer(rule, settings, smtp)
        smtp.ehlo_or_helo_if_needed()
        # On failure the server sends a 334 challenge with details; the empty answer ends the exchange.
        smtp.auth("XOAUTH2", lambda challenge=None: token if challenge is None else "")
    return xoauth2


def _check_peer(rule, settings, smtp):
    """Before the secret goes: the address reached must pass the private-address rule."""
    try:
        rule.check_peer(settings.smtp_host, settings.smtp_port, smtp.sock)
    except AuthFailure as error:
        raise PermanentFailure(str(error)) from None
