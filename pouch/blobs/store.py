"""The blob store interface the relay uses, whatever holds the blobs.

A store keeps named blobs (pouches) and hands out short-lived URLs scoped to
one blob, through which a box transfers it with a small subset of the Azure
Blob REST API (see ``pouch.blobs.transfer``).  The public methods are
coroutines: the blocking work of each store (disk, or the Azure SDK's HTTP
calls) runs in a worker thread so the relay's IOLoop keeps serving.
"""

import abc
import asyncio
import re

# Letters of a URL's permissions, as in Azure SAS tokens.
READ = "r"
CREATE = "c"
WRITE = "w"

MAX_NAME_LENGTH = 1024
# Path segments of letters, digits, dot, dash and underscore, none starting
# with a dot: safe as file names, as URL paths and as Azure blob names.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class BlobError(Exception):
    """A store operation failed."""


class BlobNotFound(BlobError, KeyError):
    """No blob has that name."""

    def __str__(self):
        return f"no blob named {self.args[0]!r}"


class InvalidBlobName(BlobError, ValueError):
    """A name a store cannot hold."""


def is_valid_name(name):
    return isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and bool(_NAME.fullmatch(name))


def check_name(name):
    """Return ``name`` if it is a valid blob name, else raise InvalidBlobName."""
    if not is_valid_name(name):
        raise InvalidBlobName(f"invalid blob name {name!r}: use path segments of "
                              "letters, digits, '.', '-', '_', none starting with '.'")
    return name


class BlobStore(abc.ABC):
    """Named blobs; subclasses implement the blocking ``_methods``."""

    async def prepare(self):
        """Create what the store needs (folder, container); safe to repeat."""
        await asyncio.to_thread(self._prepare)

    async def put_file(self, name, path):
        """Store the file at ``path`` as ``name``, replacing any blob of that name."""
        await asyncio.to_thread(self._put_file, check_name(name), path)

    async def put_bytes(self, name, data):
        await asyncio.to_thread(self._put_bytes, check_name(name), bytes(data))

    async def get_file(self, name, path):
        """Copy blob ``name`` to ``path`` (written whole, then renamed into place)."""
        await asyncio.to_thread(self._get_file, check_name(name), path)

    async def get_bytes(self, name):
        return await asyncio.to_thread(self._get_bytes, check_name(name))

    async def size(self, name):
        return await asyncio.to_thread(self._size, check_name(name))

    async def exists(self, name):
        return await asyncio.to_thread(self._exists, check_name(name))

    async def delete(self, name):
        """Delete blob ``name``; True if it existed.  Deleting twice is not an error."""
        return await asyncio.to_thread(self._delete, check_name(name))

    async def list(self, prefix=""):
        """Sorted names of the committed blobs starting with ``prefix``."""
        return await asyncio.to_thread(self._list, prefix)

    @abc.abstractmethod
    def upload_url(self, name, lifetime_s, max_bytes=None):
        """A URL that can stage, list and commit the blocks of blob ``name`` for
        ``lifetime_s`` seconds from now (negative: already expired), of a blob of
        at most ``max_bytes`` where the store can enforce it."""

    @abc.abstractmethod
    def download_url(self, name, lifetime_s):
        """A read-only URL of blob ``name``, valid ``lifetime_s`` seconds from now."""

    @abc.abstractmethod
    def _prepare(self): ...

    @abc.abstractmethod
    def _put_file(self, name, path): ...

    @abc.abstractmethod
    def _put_bytes(self, name, data): ...

    @abc.abstractmethod
    def _get_file(self, name, path): ...

    @abc.abstractmethod
    def _get_bytes(self, name): ...

    @abc.abstractmethod
    def _size(self, name): ...

    @abc.abstractmethod
    def _exists(self, name): ...

    @abc.abstractmethod
    def _delete(self, name): ...

    @abc.abstractmethod
    def _list(self, prefix): ...
