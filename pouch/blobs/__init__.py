"""Blob stores for pouches and the box's resumable transfers.

The relay holds a ``BlobStore`` (``FolderBlobStore`` or ``AzureBlobStore``)
and hands boxes URLs from it; a box moves pouches through those URLs with
``pouch.blobs.transfer.BlobTransfer``.  A relay with a folder store mounts
``pouch.blobs.web.blob_routes(store)`` in its Tornado application.
"""

from pouch.blobs.folder import FolderBlobStore
from pouch.blobs.store import BlobError, BlobNotFound, BlobStore, InvalidBlobName


def open_store(kind, *, folder=None, base_url=None, signing_key=None,
               azure_connection_string=None, azure_container=None):
    """The store a relay's [storage] settings describe (``kind``: folder | azure).

    ``base_url`` is where the relay serves the folder (e.g. its public URL +
    '/blobs'); ``signing_key`` (16+ secret bytes) signs the folder's URLs."""
    if kind == "folder":
        return FolderBlobStore(folder, base_url, signing_key)
    if kind == "azure":
        from pouch.blobs.azure import AzureBlobStore  # the box never needs the Azure SDK
        return AzureBlobStore(azure_connection_string, azure_container)
    raise ValueError(f"unknown blob store kind {kind!r}: use folder or azure")


__all__ = ["BlobError", "BlobNotFound", "BlobStore", "FolderBlobStore", "InvalidBlobName",
           "open_store"]
