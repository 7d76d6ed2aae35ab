"""Blob stores for pouches and the box's resumable transfers.

The relay holds a ``BlobStore`` (``FolderBlobStore``, ``AzureBlobStore`` or
``RelayedAzureStore``, built by ``relay.boxsync.blobstore.make_store`` alone)
and hands boxes URLs from it; a box moves pouches through those URLs with
``pouch.blobs.transfer.BlobTransfer``.  A relay with a folder store mounts
``pouch.blobs.web.blob_routes(store)`` in its Tornado application.
"""

from pouch.blobs.folder import FolderBlobStore
from pouch.blobs.store import BlobError, BlobNotFound, BlobStore, InvalidBlobName


__all__ = ["BlobError", "BlobNotFound", "BlobStore", "FolderBlobStore", "InvalidBlobName"]
