"""POST /inbound/sendgrid: SendGrid Inbound Parse, raw or parsed mode.

Answers 2xx only once the message is committed, or when its recipients had it
already (SendGrid retrying); 5xx (SendGrid retries) when it could not be
stored; 4xx, with the reason, when retrying cannot help (malformed post, no such
mailbox), which makes SendGrid give up and the sender's side bounce.
"""

import logging

import tornado.web

from relay.inbound import signature, store as inbound
from relay.inbound.sendgrid import InboundParseError, read_post
from relay.web.base import BoundedHandler, check_basic_auth

log = logging.getLogger(__name__)

FORM_OVERHEAD_BYTES = 1024 * 1024  # the other form fields and multipart framing


class SendGridInboundHandler(BoundedHandler):
    def max_body_bytes(self):
        return self.settings["relay"].inbound.max_message_bytes + FORM_OVERHEAD_BYTES

    def prepare(self):
        config = self.settings["relay"].inbound
        check_basic_auth(self, config.webhook_user, config.webhook_password, "sendgrid")
        super().prepare()

    async def post(self):
        key = self.settings["sendgrid_key"]
        if key is not None:
            try:
                signature.verify(key, self.request.headers, self.body,
                                 self.settings["relay"].inbound.signature_max_age_s)
            except signature.SignatureError as error:
                raise tornado.web.HTTPError(403, str(error)) from None
        try:
            # Off the IOLoop: a 30 MB post takes a while to parse, and sync requests wait meanwhile.
            raw, mail_from, recipients, spam_score = await self.run_blocking(
                read_post, self.request.headers.get("Content-Type", ""), self.body)
        except InboundParseError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        if len(raw) > self.settings["relay"].inbound.max_message_bytes:
            raise tornado.web.HTTPError(413, "the message is over this relay's size limit")
        try:
            routed = await self.settings["inbound"].store(raw, recipients, "sendgrid", mail_from, spam_score)
        except inbound.Refused as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        except inbound.NoRecipient as error:
            log.info("inbound rejected source=sendgrid reason=%r", str(error))
            raise tornado.web.HTTPError(404, str(error)) from None
        except Exception:  # nothing was stored: SendGrid keeps the message and retries
            log.exception("inbound not stored source=sendgrid")
            raise tornado.web.HTTPError(503, "the message could not be stored; retry later") from None
        log.info("inbound stored source=sendgrid bytes=%d boxes=%d%s", len(raw), len(routed),
                 "" if routed else " repeat=yes")
        self.finish({"stored": True, "repeat": not routed})
