"""The background sender: claims due messages and hands them to the transport."""

import logging
import threading

from relay import payload
from relay.outbound import queue
from relay.outbound.transports import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, engine, transport, config, stopping=None, accounts=None):
        self.engine = engine
        self.transport = transport
        self.accounts = accounts  # AccountSender: mail from a box user's external address
        self.config = config
        # A claim outlives any send that respects the timeout; past it, its process is gone.
        self.lease_s = 2 * config.timeout_s + 5
        self.stopping = stopping or threading.Event()

    def run_once(self):
        """Send one claimed batch; False when there was nothing to do."""
        interrupted = queue.fail_interrupted(self.engine)
        if interrupted:
            log.warning("outbound interrupted=%d failed without retry", interrupted)
        jobs = queue.claim(self.engine, self.config.batch, self.lease_s)
        for job in jobs:
            if self.stopping.is_set():
                # Unsent claims: put them straight back rather than wait for the lease.
                queue.release(self.engine, job)
                continue
            self.deliver(job)
        return bool(jobs)

    def deliver(self, job):
        where = f"box={job.box_id} record={job.record_id!r} attempt={job.attempts + 1}"
        try:
            record, blobs = payload.unpack(job.payload)
            if record.extra.get("account") is not None:
                if self.accounts is None:
                    raise PermanentFailure("this relay does not send mail through external accounts")
                # Its own servers' timeouts, SMTP then IMAP: the claim must outlive both.
                queue.extend_claim(self.engine, job, 2 * self.accounts.timeout_s + 5)
                note = self.accounts.send(job.box_id, record, blobs, job.recipients)
            else:
                note = self.transport.send(record, blobs, job.recipients, f"{job.box_id}-{job.record_id}")
        except TemporaryFailure as error:
            log.info("outbound retry %s reason=%r", where, str(error))
            queue.retry_later(self.engine, job, str(error), self.config)
        except PermanentFailure as error:
            log.info("outbound failed %s reason=%r", where, str(error))
            queue.mark_failed(self.engine, job, str(error))
        except Exception as error:  # a bug or a record the transport cannot express
            log.exception("outbound failed %s", where)
            queue.mark_failed(self.engine, job, f"could not be sent: {error}")
        else:
            log.info("outbound sent %s", where)
            queue.mark_sent(self.engine, job, note or "")

