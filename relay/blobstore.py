"""The relay's blob store, as [storage] says: a served folder, or Azure (served
through the relay too unless ``direct_urls``)."""

from pathlib import Path

from pouch.blobs import open_store
from pouch.blobs.signing import load_or_create_key

BLOB_PATH = "/blobs"
KEY_FILE = "blob-url-signing.key"


def signing_key(data_dir):
    """The key that signs blob URLs: made once, shared by every process using ``data_dir``."""
    return load_or_create_key(Path(data_dir) / KEY_FILE)


def blob_base_url(settings):
    return settings.relay.public_url.rstrip("/") + BLOB_PATH


def make_store(settings):
    storage = settings.storage
    if storage.kind == "azure" and not storage.direct_urls:
        from pouch.blobs.relayed import RelayedAzureStore

        return RelayedAzureStore(storage.azure_connection_string, storage.azure_container,
                                 blob_base_url(settings), signing_key(settings.relay.data_dir),
                                 Path(settings.relay.data_dir) / "blob-staging")
    key = signing_key(settings.relay.data_dir) if storage.kind == "folder" else None
    return open_store(storage.kind, folder=settings.blob_folder, signing_key=key,
                      base_url=blob_base_url(settings),
                      azure_connection_string=storage.azure_connection_string,
                      azure_container=storage.azure_container)
