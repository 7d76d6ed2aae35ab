"""The relay's blob store, as [storage] says: a served folder, or Azure (served
through the relay too unless ``direct_urls``)."""

from pathlib import Path

import sqlalchemy as sa

from pouch.blobs import FolderBlobStore
from pouch.blobs.signing import load_or_create_key
from relay.schema import boxes, pouches

BLOB_PATH = "/blobs"
KEY_FILE = "blob-url-signing.key"


def signing_key(data_dir):
    """The key that signs blob URLs: made once, shared by every process using ``data_dir``."""
    return load_or_create_key(Path(data_dir) / KEY_FILE)


def blob_base_url(settings):
    return settings.relay.public_url.rstrip("/") + BLOB_PATH


def served_pouch(engine):
    """``allowed(name)`` for the blob handlers: whether blob ``name`` is a pouch of a
    box not revoked, asked on every request (one lookup by primary key), so a revoked
    box's signed URLs stop at the revocation, not when they expire."""
    query = (sa.select(pouches.c.name).join(boxes, boxes.c.id == pouches.c.box_id)
             .where(pouches.c.name == sa.bindparam("name"), boxes.c.revoked_at.is_(None)))

    def allowed(name):
        with engine.connect() as db:
            return db.execute(query, {"name": name}).first() is not None
    return allowed


def make_store(settings):
    """The one place a blob store is built: the kind [storage] names."""
    storage, data_dir = settings.storage, Path(settings.relay.data_dir)
    if storage.kind == "folder":
        return FolderBlobStore(settings.blob_folder, blob_base_url(settings), signing_key(data_dir))
    if storage.kind != "azure":
        raise ValueError(f"unknown blob store kind {storage.kind!r}: use folder or azure")
    # Imported here: a folder relay needs no Azure SDK.
    if storage.direct_urls:
        from pouch.blobs.azure import AzureBlobStore

        return AzureBlobStore(storage.azure_connection_string, storage.azure_container)
    from pouch.blobs.relayed import RelayedAzureStore

    return RelayedAzureStore(storage.azure_connection_string, storage.azure_container,
                             blob_base_url(settings), signing_key(data_dir), data_dir / "blob-staging")
