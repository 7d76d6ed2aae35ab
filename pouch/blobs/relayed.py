"""Azure blob storage served through the relay's own host.

During a sync the box then talks to one host only, so one TLS connection
carries the whole window.  The relay hands out URLs it signs itself (as for a
folder store) and ``pouch.blobs.web`` answers them, staging, listing and
committing blocks and reading ranges in Azure through the SDK: the box sees
the same REST subset whatever is behind the relay.
"""

import os
import tempfile

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobBlock

from pouch.blobs import rest
from pouch.blobs.azure import AzureBlobStore
from pouch.blobs.folder import (MAX_STAGED_BYTES, FolderBlobStore, InvalidBlockList,
                                check_blob_size, check_staging)
from pouch.blobs.signing import UrlSigner
from pouch.blobs.store import BlobNotFound


class RelayedAzureStore(AzureBlobStore):
    def __init__(self, connection_string, container, base_url, signing_key, staging_dir):
        super().__init__(connection_string, container)
        self.base_url = base_url.rstrip("/")
        self.signer = UrlSigner(signing_key)
        self.staging_dir = staging_dir

    # URLs signed as the folder store signs them (same signer, base URL and permissions).
    upload_url = FolderBlobStore.upload_url
    download_url = FolderBlobStore.download_url
    _url = FolderBlobStore._url

    # -- what pouch.blobs.web calls (blocking: it runs them in a thread) --------

    def new_staging_file(self):
        """Where a Put Block body waits before it goes to Azure."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self.staging_dir, suffix=".tmp", delete=False)

    def stage_block(self, name, block_id, received_path, max_staged_bytes=None):
        # One Get Block List more per block, inside the datacenter: staging stays bounded.
        others = [block for block in self._block_lists_or_none(name)[1] if block.id != block_id]
        limit = MAX_STAGED_BYTES if max_staged_bytes is None else min(MAX_STAGED_BYTES, max_staged_bytes)
        check_staging(name, len(others), sum(block.size for block in others)
                      + os.path.getsize(received_path), limit)
        with open(received_path, "rb") as data:
            self.container.get_blob_client(name).stage_block(block_id, data.read())

    def block_lists(self, name):
        """(committed, uncommitted) lists of rest.Block; BlobNotFound if neither."""
        try:
            committed, uncommitted = self.container.get_blob_client(name).get_block_list("all")
        except ResourceNotFoundError:
            raise BlobNotFound(name) from None
        as_rest = lambda blocks: [rest.Block(block.id, block.size) for block in blocks]  # noqa: E731
        return as_rest(committed), as_rest(uncommitted)

    def commit_blocks(self, name, entries, max_bytes=None):
        if max_bytes is not None:
            check_blob_size(name, self._listed_size(name, entries), max_bytes)
        blocks = [BlobBlock(block_id) for _, block_id in entries]
        try:
            self.container.get_blob_client(name).commit_block_list(blocks)
        except HttpResponseError as error:
            if getattr(error, "error_code", None) == "InvalidBlockList":
                raise InvalidBlockList(f"a block of {name!r} is not in the store") from None
            raise

    def _block_lists_or_none(self, name):
        try:
            return self.block_lists(name)
        except BlobNotFound:
            return [], []

    def _listed_size(self, name, entries):
        """Bytes of the blob the Put Block List ``entries`` would make (as Azure finds blocks)."""
        committed, uncommitted = (
            {block.id: block.size for block in blocks} for blocks in self._block_lists_or_none(name))
        found = {rest.UNCOMMITTED: (uncommitted,), rest.COMMITTED: (committed,),
                 rest.LATEST: (uncommitted, committed)}
        size = 0
        for where, block_id in entries:
            sizes = [blocks[block_id] for blocks in found[where] if block_id in blocks]
            if not sizes:
                raise InvalidBlockList(f"block {block_id} of {name!r} is not in the store")
            size += sizes[0]
        return size

    def open_blob(self, name):
        """A reader of blob ``name`` with its ``size``; ``seek`` then ``read`` stream a range."""
        try:
            size = self.container.get_blob_client(name).get_blob_properties().size
        except ResourceNotFoundError:
            raise BlobNotFound(name) from None
        return _RangeReader(self.container, name, size)


class _RangeReader:
    """Reads blob ``name`` from ``seek``'s offset on, one ranged Azure read per ``read``
    (64 KiB from pouch.blobs.web: a few milliseconds inside the datacenter, against
    seconds for the same bytes on the box's link)."""

    def __init__(self, container, name, size):
        self.container, self.name, self.size = container, name, size
        self.offset = 0

    def seek(self, offset):
        self.offset = offset

    def read(self, count):
        count = min(count, self.size - self.offset)
        if count <= 0:
            return b""
        data = self.container.download_blob(self.name, offset=self.offset, length=count).readall()
        self.offset += len(data)
        return data

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
