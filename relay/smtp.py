"""An SMTP listener (aiosmtpd) for operators who point MX straight at the relay.

Unknown recipients are refused at RCPT (550), so the sending server bounces;
DATA is answered 250 only after the message is committed.
"""

import asyncio
import logging

from aiosmtpd.smtp import SMTP
from sqlalchemy.exc import SQLAlchemyError

from relay import boxes, inbound

log = logging.getLogger(__name__)


class InboundHandler:
    def __init__(self, engine):
        self.engine = engine
        self.committer = inbound.GroupCommit(engine)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
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
            await self.committer.store(raw, envelope.rcpt_tos, "smtp", envelope.mail_from or "")
        except inbound.NoRecipient:  # the box was revoked since RCPT
            return "550 5.1.1 no mailbox here for these recipients"
        except SQLAlchemyError:
            log.exception("inbound not stored source=smtp")
            return "451 4.3.0 the message could not be stored; try again later"
        log.info("inbound stored source=smtp bytes=%d recipients=%d", len(raw), len(envelope.rcpt_tos))
        return "250 2.0.0 stored"


async def start(engine, host, port, max_message_bytes, hostname):
    """Listen for SMTP on ``host:port``; returns the asyncio server."""
    handler = InboundHandler(engine)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, data_size_limit=max_message_bytes, hostname=hostname,
                     enable_SMTPUTF8=True, decode_data=False),
        host=host, port=port)
    log.info("SMTP listening on %s:%d", host, port)
    return server
