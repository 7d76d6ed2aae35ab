"""Blobs in an Azure Storage container (or Azurite), with SAS URLs.

The box transfers through the SAS URLs with the same REST subset it uses
against the folder store; the relay's own calls go through the Azure SDK.
"""

import datetime
import os
from pathlib import Path

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, generate_blob_sas

from pouch.blobs.store import BlobNotFound, BlobStore, check_name

# Get Block List, by which a resumed upload learns which blocks the store
# holds, needs the read permission in Azure's SAS model; so an upload URL can
# also read back the one blob it writes (which holds what the box sent).
UPLOAD_PERMISSIONS = BlobSasPermissions(read=True, create=True, write=True)
DOWNLOAD_PERMISSIONS = BlobSasPermissions(read=True)


class AzureBlobStore(BlobStore):
    def __init__(self, connection_string, container):
        self.service = BlobServiceClient.from_connection_string(connection_string)
        self.container = self.service.get_container_client(container)

    def upload_url(self, name, lifetime_s, max_bytes=None):
        # A SAS cannot bound the blob's size: what takes the blob over checks it.
        return self._sas_url(name, UPLOAD_PERMISSIONS, lifetime_s)

    def download_url(self, name, lifetime_s):
        return self._sas_url(name, DOWNLOAD_PERMISSIONS, lifetime_s)

    def _sas_url(self, name, permission, lifetime_s):
        blob = self.container.get_blob_client(check_name(name))
        now = datetime.datetime.now(datetime.timezone.utc)
        expiry = now + datetime.timedelta(seconds=lifetime_s)
        sas = generate_blob_sas(
            account_name=self.service.account_name, container_name=self.container.container_name,
            blob_name=name, account_key=self.service.credential.account_key,
            permission=permission, expiry=expiry)
        return f"{blob.url}?{sas}"

    def _prepare(self):
        try:
            self.container.create_container()
        except ResourceExistsError:
            pass

    def _put_file(self, name, path):
        with open(path, "rb") as source:
            self.container.upload_blob(name, source, overwrite=True)

    def _put_bytes(self, name, data):
        self.container.upload_blob(name, data, overwrite=True)

    def _get_file(self, name, path):
        path = Path(path)
        partial = path.with_name(path.name + ".download")
        try:
            with open(partial, "wb") as target:
                self._download(name).readinto(target)
                target.flush()
                os.fsync(target.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def _get_bytes(self, name):
        return self._download(name).readall()

    def _size(self, name):
        try:
            return self.container.get_blob_client(name).get_blob_properties().size
        except ResourceNotFoundError:
            raise BlobNotFound(name) from None

    def _exists(self, name):
        return self.container.get_blob_client(name).exists()

    def _delete(self, name):
        try:
            self.container.delete_blob(name)
        except ResourceNotFoundError:
            return False
        return True

    def _list(self, prefix):
        blobs = self.container.list_blobs(name_starts_with=prefix or None)
        return sorted(blob.name for blob in blobs)

    def _download(self, name):
        try:
            return self.container.download_blob(name)
        except ResourceNotFoundError:
            raise BlobNotFound(name) from None
