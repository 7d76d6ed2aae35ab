"""An SMTP listener (aiosmtpd) for operators who point MX straight at the relay.

Unknown recipients are refused at RCPT (550), so the sending server bounces;
past ``pouch.limits.MAX_RECIPIENTS`` a RCPT gets 452, and the sender sends the
rest in another transaction (RFC 5321 4.5.3.1.10).  DATA is answered 250 only
after the message is committed, and also when every recipient had it already
(a retry).  Replies never carry internal detail: that goes to the log.
Lines longer than RFC 5321's 998 characters are taken, as Postfix takes them:
broken mailers send them, and refusing bounces mail nobody can fix.
Connections are capped in total and per client address, as Postfix caps them
(default_process_limit, smtpd_client_connection_count_limit): one more is
answered 421 at once and closed, and its sender retries later.  A client
silent for ``[inbound] smtp_timeout_s`` hears 421 and is closed.
"""

import asyncio
import collections
import logging

from aiosmtpd.smtp import SMTP
from sqlalchemy.exc import SQLAlchemyError

from pouch.limits import MAX_RECIPIENTS
from pouch.runtime.settings import SettingsError
from relay import boxes
from relay.inbound import store as inbound

log = logging.getLogger(__name__)

TRY_LATER = "451 4.3.0 the message could not be stored; try again later"
MAX_LINE_BYTES = 1 << 20  # a line of DATA, CRLF included (aiosmtpd's own is RFC 5321's 1,001)


class ConnectionSlots:
    """Open SMTP connections, counted in total and per client address; a cap of 0 is no cap."""

    def __init__(self, total, per_client):
        self.total, self.per_client = total, per_client
        self.by_client = collections.Counter()
        self.count = 0

    def take(self, client):
        """Take a slot for ``client``; None, or why there is none (for the 421)."""
        if 0 < self.per_client <= self.by_client[client]:
            return f"too many connections from {client}"
        if 0 < self.total <= self.count:
            return "too many connections"
        self.by_client[client] += 1
        self.count += 1
        return None

    def give_back(self, client):
        self.count -= 1
        self.by_client[client] -= 1
        if not self.by_client[client]:
            del self.by_client[client]


class IntakeSMTP(SMTP):
    line_length_limit = MAX_LINE_BYTES  # also bounds what a command line buffers before its 500

    def __init__(self, handler, slots, **options):
        super().__init__(handler, **options)
        self.slots = slots
        self.client = None  # the address holding a slot while the connection is open

    def connection_made(self, transport):
        if self.client is not None:  # STARTTLS wraps the same connection, which holds its slot
            return super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        client = peer[0] if peer else ""
        refusal = self.slots.take(client)
        if refusal:  # before the greeting: no session, nothing read, the sender retries a 421
            log.warning("SMTP connection refused client=%s: %s", client, refusal)
            transport.write(f"421 4.7.0 {refusal}; try again later\r\n".encode())
            transport.close()
            return None
        self.client = client
        return super().connection_made(transport)

    def connection_lost(self, error):
        # asyncio calls this once however the connection ended: QUIT, reset, timeout, a failure.
        if self.client is None:  # refused: aiosmtpd never started
            return
        self.slots.give_back(self.client)
        self.client = None
        super().connection_lost(error)

    def data_received(self, data):
        # aiosmtpd's timeout runs from the last command: a big DATA still arriving is not idle.
        if self.client is not None:
            self._reset_timeout()
        super().data_received(data)

    def _timeout_cb(self):
        # aiosmtpd closes in silence, and its close() waits for replies a client may never read (the
        # slot would be held for good): say why, as a sender retries a 421 and logs it, and drop.
        log.info("SMTP connection timed out client=%s", self.client)
        self.transport.write(b"421 4.4.2 idle too long; closing\r\n")
        self.transport.abort()


class InboundHandler:
    def __init__(self, engine, dedupe_days):
        self.engine = engine
        self.committer = inbound.GroupCommit(engine, dedupe_days)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        try:
            inbound.check_address(address, "the sender")
        except inbound.Refused as error:
            return f"553 5.1.7 {error}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            inbound.check_address(address)
        except inbound.Refused as error:
            return f"553 5.1.3 {error}"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 too many recipients: at most {MAX_RECIPIENTS} a message"
        routed = await asyncio.to_thread(self._route, address)
        if not routed:
            return f"550 5.1.1 no mailbox here for <{address}>"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _route(self, address):
        with self.engine.connect() as db:
            return boxes.route(db, [address])

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        try:
            routed = await self.committer.store(raw, envelope.rcpt_tos, "smtp", envelope.mail_from or "")
        except inbound.NoRecipient:  # the box was revoked since RCPT
            return "550 5.1.1 no mailbox here for these recipients"
        except inbound.Refused as error:
            return f"554 5.5.4 {error}"
        except SQLAlchemyError:
            log.exception("inbound not stored source=smtp")
            return TRY_LATER
        log.info("inbound stored source=smtp bytes=%d recipients=%d boxes=%d%s", len(raw), len(envelope.rcpt_tos),
                 len(routed), "" if routed else " repeat=yes")
        return "250 2.0.0 stored"

    async def handle_exception(self, error):
        # aiosmtpd would answer with the exception's text: keep it in the log.
        log.exception("SMTP session failed", exc_info=error)
        return "451 4.3.0 temporary failure; try again later"


async def start(engine, settings):
    """Listen for SMTP on ``[inbound] smtp_host:smtp_port``; returns the asyncio server."""
    config = settings.inbound
    if not config.smtp_timeout_s > 0:  # aiosmtpd would drop every client at once after its greeting
        raise SettingsError(f"[inbound] smtp_timeout_s is {config.smtp_timeout_s}: it must be more than 0")
    handler = InboundHandler(engine, config.dedupe_days)
    slots = ConnectionSlots(config.smtp_max_connections, config.smtp_max_connections_per_ip)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: IntakeSMTP(handler, slots, data_size_limit=config.max_message_bytes, hostname=settings.relay.domain,
                           enable_SMTPUTF8=True, decode_data=False, timeout=config.smtp_timeout_s),
        host=config.smtp_host, port=config.smtp_port)
    log.info("SMTP listening on %s:%d", config.smtp_host, config.smtp_port)
    return server
