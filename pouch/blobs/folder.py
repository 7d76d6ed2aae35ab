"""Blobs as files in a local folder, for a relay on one machine.

The relay serves the folder itself (``pouch.blobs.web``) at signed URLs, so a
box transfers through the same Azure REST subset whichever store is behind
the relay.  Layout, all inside ``root`` so that every rename is atomic::

    root/<name>                          committed blobs
    root/.staging/<sha256 of name>/      per blob: staged blocks and the list
        blocks/<hex of block id>         of committed blocks (Get Block List)
        committed
    root/.staging/*.tmp                  files being written

Blob names never start with a dot, so ``.staging`` cannot clash with one.
"""

import base64
import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from pouch.blobs import rest
from pouch.blobs.signing import UrlSigner
from pouch.blobs.store import (CREATE, READ, WRITE, BlobError, BlobNotFound, BlobStore,
                               check_name, is_valid_name)

STAGING = ".staging"
STALE_AFTER_S = 7 * 24 * 3600
# Bounds the disk one upload URL can fill; pouches are size-capped far below.
MAX_STAGED_BYTES = 256 << 20
COPY_CHUNK = 1 << 20
# Unlike Azure, the folder store lets a write URL list blocks, so its upload
# URLs need no read permission and are truly write-only.
UPLOAD_PERMISSIONS = CREATE + WRITE
DOWNLOAD_PERMISSIONS = READ


class InvalidBlockList(BlobError):
    """A block list names a block the store does not hold."""


class StagingFull(BlobError):
    """A blob has as many staged blocks or bytes as the store allows."""


class BlobTooLarge(BlobError):
    """A block list would make a blob larger than its upload URL allows."""


def check_blob_size(name, size, max_bytes):
    """BlobTooLarge if ``size`` bytes are over ``max_bytes`` (None: no bound)."""
    if max_bytes is not None and size > max_bytes:
        raise BlobTooLarge(f"the listed blocks make {size} bytes, over the {max_bytes} bytes "
                           f"declared for {name!r}")


class FolderBlobStore(BlobStore):
    def __init__(self, root, base_url, signing_key, max_staged_bytes=MAX_STAGED_BYTES):
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.signer = UrlSigner(signing_key)
        self.max_staged_bytes = max_staged_bytes

    # -- URLs ---------------------------------------------------------------

    def upload_url(self, name, lifetime_s, max_bytes=None):
        return self._url(name, UPLOAD_PERMISSIONS, lifetime_s, max_bytes)

    def download_url(self, name, lifetime_s):
        return self._url(name, DOWNLOAD_PERMISSIONS, lifetime_s)

    def _url(self, name, permissions, lifetime_s, max_bytes=None):
        query = self.signer.query(check_name(name), permissions, lifetime_s, max_bytes=max_bytes)
        return f"{self.base_url}/{name}?{query}"

    # -- whole blobs ----------------------------------------------------------

    def _prepare(self):
        (self.root / STAGING).mkdir(parents=True, exist_ok=True)

    def _put_file(self, name, path):
        with open(path, "rb") as source:
            self._replace_blob(name, lambda target: shutil.copyfileobj(source, target, COPY_CHUNK))

    def _put_bytes(self, name, data):
        self._replace_blob(name, lambda target: target.write(data))

    def _get_file(self, name, path):
        path = Path(path)
        with self.open_blob(name) as source, self._temp_file(path.parent) as target:
            shutil.copyfileobj(source, target, COPY_CHUNK)
        os.replace(target.name, path)

    def _get_bytes(self, name):
        with self.open_blob(name) as source:
            return source.read()

    def _size(self, name):
        try:
            return self._blob_path(name).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(name) from None

    def _exists(self, name):
        return self._blob_path(name).is_file()

    def _delete(self, name):
        shutil.rmtree(self._state_dir(name), ignore_errors=True)
        try:
            self._blob_path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def _list(self, prefix):
        # Walk only the folder the prefix names (never outside the root).
        folder = prefix.rpartition("/")[0]
        if folder and not is_valid_name(folder):
            return []
        return self._names_below(self.root / folder, prefix)

    def _names_below(self, folder, prefix):
        names = (path.relative_to(self.root).as_posix() for path in folder.rglob("*")
                 if path.is_file() and path.relative_to(self.root).parts[0] != STAGING)
        return sorted(name for name in names if name.startswith(prefix))

    def open_blob(self, name):
        """The committed blob ``name`` opened for binary reading."""
        try:
            return open(self._blob_path(name), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFound(name) from None

    # -- blocks (Put Block, Get Block List, Put Block List) -------------------

    def new_staging_file(self):
        """A new temporary file beside the blobs (the caller removes or renames it)."""
        return tempfile.NamedTemporaryFile(dir=self.root / STAGING, suffix=".tmp", delete=False)

    def stage_block(self, name, block_id, received_path, max_staged_bytes=None):
        """Keep the received file as block ``block_id`` of blob ``name``, if the
        blob's other staged blocks and this one stay within the store's bounds
        and ``max_staged_bytes``."""
        blocks = self._state_dir(name) / "blocks"
        blocks.mkdir(parents=True, exist_ok=True)
        target = blocks / _block_file_name(block_id)
        others = [path for path in blocks.iterdir() if path != target]
        check_staging(name, len(others), sum(path.stat().st_size for path in others)
                      + os.path.getsize(received_path), _lower(self.max_staged_bytes, max_staged_bytes))
        os.replace(received_path, target)

    def block_lists(self, name):
        """(committed, uncommitted) lists of rest.Block; BlobNotFound if neither."""
        committed = self._committed_blocks(name)
        blocks = self._state_dir(name) / "blocks"
        uncommitted = sorted(
            (rest.Block(_block_id(path.name), path.stat().st_size) for path in blocks.iterdir()),
            key=lambda block: block.id) if blocks.is_dir() else []
        if committed is None and not uncommitted:
            raise BlobNotFound(name)
        return committed or [], uncommitted

    def commit_blocks(self, name, entries, max_bytes=None):
        """Make blob ``name`` the concatenation of the listed blocks, atomically,
        if that makes at most ``max_bytes`` (else BlobTooLarge, nothing changed).

        ``entries`` are (where, block id) pairs of a Put Block List body."""
        sources = self._block_sources(name, entries)
        check_blob_size(name, sum(size for _, _, size in sources), max_bytes)
        blocks = [rest.Block(block_id, size)
                  for (_, _, size), (_, block_id) in zip(sources, entries)]
        reuses_committed = any(path is None for path, _, _ in sources)
        # The old blob stays readable through this open file after the rename.
        with self.open_blob(name) if reuses_committed else contextlib.nullcontext() as old:
            self._replace_blob(name, lambda target: _concatenate(sources, old, target), blocks)
        shutil.rmtree(self._state_dir(name) / "blocks", ignore_errors=True)

    def _block_sources(self, name, entries):
        """[(staged path or None for the committed blob, offset, size)] per entry."""
        staged = self._state_dir(name) / "blocks"
        committed = {}
        offset = 0
        for block in self._committed_blocks(name) or []:
            committed.setdefault(block.id, (offset, block.size))
            offset += block.size
        sources = []
        for where, block_id in entries:
            path = staged / _block_file_name(block_id)
            if where != rest.COMMITTED and path.is_file():
                sources.append((path, 0, path.stat().st_size))
            elif where != rest.UNCOMMITTED and block_id in committed:
                sources.append((None, *committed[block_id]))
            else:
                raise InvalidBlockList(f"block {block_id} of {name!r} is not in the store")
        return sources

    def _committed_blocks(self, name):
        try:
            lines = (self._state_dir(name) / "committed").read_text().split()
        except FileNotFoundError:
            return [] if self._exists(name) else None
        return [rest.Block(block_id, int(size)) for block_id, size in zip(lines[::2], lines[1::2])]

    def discard_stale(self, max_age_s=STALE_AFTER_S):
        """Remove staged blocks and temporary files untouched for ``max_age_s``
        (abandoned uploads), as Azure discards uncommitted blocks after a week."""
        limit = time.time() - max_age_s
        staging = self.root / STAGING
        for path in staging.glob("*.tmp"):
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        for blocks in staging.glob("*/blocks"):
            if all(path.stat().st_mtime < limit for path in blocks.iterdir()):
                shutil.rmtree(blocks, ignore_errors=True)

    # -- files ----------------------------------------------------------------

    def _replace_blob(self, name, write, blocks=()):
        """Write blob ``name`` through ``write(file)`` and rename it into place."""
        path = self._blob_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._temp_file(self.root / STAGING) as target:
            write(target)
        os.replace(target.name, path)
        state = self._state_dir(name)
        state.mkdir(parents=True, exist_ok=True)
        (state / "committed").write_text("".join(f"{b.id} {b.size}\n" for b in blocks))

    @contextlib.contextmanager
    def _temp_file(self, folder):
        """A temporary file in ``folder``, flushed to disk on success, removed on error."""
        folder.mkdir(parents=True, exist_ok=True)
        target = tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False)
        try:
            with target:
                yield target
                target.flush()
                os.fsync(target.fileno())
        except BaseException:
            os.unlink(target.name)
            raise

    def _blob_path(self, name):
        return self.root / check_name(name)

    def _state_dir(self, name):
        return self.root / STAGING / hashlib.sha256(name.encode()).hexdigest()


def check_staging(name, others, staged_bytes, max_staged_bytes):
    """StagingFull unless one more block, making ``staged_bytes`` in all, fits."""
    if others >= rest.MAX_BLOCKS or staged_bytes > max_staged_bytes:
        raise StagingFull(f"blob {name!r} may stage at most {rest.MAX_BLOCKS} blocks "
                          f"and {max_staged_bytes} bytes")


def _lower(bound, other):
    return bound if other is None else min(bound, other)


def _concatenate(sources, committed_blob, target):
    for path, offset, size in sources:
        if path is None:
            committed_blob.seek(offset)
            _copy_exactly(committed_blob, target, size)
        else:
            with open(path, "rb") as block:
                shutil.copyfileobj(block, target, COPY_CHUNK)


def _copy_exactly(source, target, size):
    while size > 0:
        chunk = source.read(min(size, COPY_CHUNK))
        if not chunk:
            raise BlobError("the committed blob is shorter than its block list")
        target.write(chunk)
        size -= len(chunk)


def _block_file_name(block_id):
    return base64.b64decode(block_id).hex()


def _block_id(file_name):
    return base64.b64encode(bytes.fromhex(file_name)).decode()
