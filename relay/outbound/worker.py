"""The background sender: claims due messages and hands each to its transport.

Failure is per message: whatever goes wrong building or sending one message (an expected
refusal or a bug) retries or fails that message, with a reason its sender can read, and the
worker goes on with the next one.
"""

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from pouch import mime
from relay import payload
from relay.outbound import queue
from relay.outbound.transports import Outgoing, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

MAX_REASON = 500


class Worker:
    def __init__(self, engine, transport, config, stopping=None, accounts=None):
        self.engine = engine
        self.transport = transport
        self.accounts = accounts  # AccountSender: mail from a box user's external address
        self.config = config
        # A claim outlives any send that respects the timeout (past it, its process is gone);
        # the claims of a batch are renewed as each of its sends starts.
        self.lease_s = 2 * config.timeout_s + 5
        self.stopping = stopping or threading.Event()

    def run_once(self):
        """Send one claimed batch; False when there was nothing to do."""
        interrupted = queue.fail_interrupted(self.engine)
        if interrupted:
            log.warning("outbound interrupted=%d failed without retry", interrupted)
        jobs = queue.claim(self.engine, self.config.batch, self.lease_s)
        for turn, job in enumerate(jobs):
            if self.stopping.is_set():
                # Unsent claims: put them straight back rather than wait for the lease.
                queue.release(self.engine, job)
                continue
            try:
                self.deliver(job, waiting=jobs[turn + 1:])
            except Exception:  # its fate could not be written (the database went away): the lease tells
                log.exception("outbound bookkeeping failed box=%s record=%r", job.box_id, job.record_id)
        return bool(jobs)

    def deliver(self, job, waiting=()):
        where = f"box={job.box_id} record={job.record_id!r} attempt={job.attempts + 1}"
        try:
            message, transport = self._prepare(job)
            if not queue.extend_claim(self.engine, job, 2 * transport.timeout_s + 5, waiting):
                log.warning("outbound claim lost %s: reported as interrupted, not sent", where)
                return
            note = transport.send(message)
        except TemporaryFailure as error:
            log.info("outbound retry %s reason=%r", where, str(error))
            queue.retry_later(self.engine, job, _short(error), self.config)
        except PermanentFailure as error:
            log.info("outbound failed %s reason=%r", where, str(error))
            queue.mark_failed(self.engine, job, _short(error))
        except mime.MimeError as error:  # the record cannot be expressed as mail
            log.info("outbound failed %s reason=%r", where, str(error))
            queue.mark_failed(self.engine, job, _short(f"cannot be turned into mail: {error}"))
        except SQLAlchemyError:
            raise  # the relay's database, not the message: run_once logs it, the claim's lease decides
        except Exception as error:  # a bug, or a record no transport expected
            log.exception("outbound failed %s", where)
            queue.mark_failed(self.engine, job, _short(
                f"the relay could not send it because of an error of its own ({type(error).__name__}: "
                f"{error}); its operator can find the details in the relay's log"))
        else:
            log.info("outbound sent %s", where)
            queue.mark_sent(self.engine, job, note or "")

    def _prepare(self, job):
        """The message of ``job`` and the transport it leaves by."""
        record, blobs = payload.unpack(queue.payload_of(self.engine, job))
        message = Outgoing(job.box_id, record, blobs, job.recipients)
        if record.extra.get("account") is None:
            return message, self.transport
        if self.accounts is None:
            raise PermanentFailure("this relay does not send mail through external accounts")
        return message, self.accounts


def _short(reason):
    reason = str(reason)
    return reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 1] + "…"
