"""The box's mail store: SQLite tables (migration a0002), attachment files, search.

A :class:`Store` bundles what the data-layer functions need beyond a connection;
the functions live in one module per concern (users, messages, mailbox, search,
incoming, outbox, boxinfo) and write the change log themselves.
"""

from pathlib import Path

from appliance.store import incoming, outbox
from appliance.store.attachment_files import AttachmentFiles


class Store:
    def __init__(self, engine, data_dir, domain):
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.domain = domain.lower()
        self.attachment_files = AttachmentFiles(self.data_dir / "attachments")

    def read(self):
        """A connection for reading (``with store.read() as conn``)."""
        return self.engine.connect()

    def write(self):
        """A transaction: everything in it is committed together or not at all."""
        return self.engine.begin()

    def deliver_incoming(self, record, blobs):
        """Store one incoming ``MessageRecord`` and its blobs ({sha256 bytes: data}) in one transaction."""
        with self.write() as conn:
            return incoming.deliver_incoming(self, conn, record, blobs)

    def outbox(self, limit=None):
        """Queued mail for the relay, as ``MessageRecord``s (see store.outbox.queued)."""
        with self.read() as conn:
            return outbox.queued(conn, limit)
